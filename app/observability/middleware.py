"""`RequestObserver`: the MCP server middleware that logs, measures and traces each request.

Outermost in the SDK's middleware list, so it sees every JSON-RPC request
the kernel serves (`initialize`, unknown methods, unknown tools and invalid
params included) and times the whole of it. Notifications pass untouched.
Per request: two clock reads, one context-variable set, one access log line
(when enabled and the level lets it through), one list append (metrics on).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import INTERNAL_ERROR, REQUEST_TIMEOUT

from app.core.errors import InsufficientScope, Refusal
from app.observability.audit import AuditLog
from app.observability.logs import request_fields
from app.observability.metrics import InvocationMetrics
from app.observability.tracing import ToolTracing
from app.transport.mistakes import error_data
from app.core.principal import peek_principal

#: The access log. Its lines carry no credential: only ids, names, codes and timings.
access_logger = logging.getLogger("app.access")

#: Longest method, tool or client name copied into a log line (they come from the caller).
MAX_NAME: Final = 128


def _name(value: Any) -> str | None:
    return value[:MAX_NAME] if isinstance(value, str) else None


def _client_name(ctx: ServerRequestContext[Any, Any], params: Mapping[str, Any] | None) -> str | None:
    """initialize: its clientInfo; 2026-07-28: the envelope's (via the session). Handshake era: none."""
    if ctx.method == "initialize":
        info = params.get("clientInfo") if params else None
        return _name(info.get("name")) if isinstance(info, Mapping) else None
    client = ctx.session.client_params
    return _name(client.client_info.name) if client is not None else None


def _error_code(exc: BaseException) -> int:
    if not isinstance(exc, Exception):
        return REQUEST_TIMEOUT  # cancelled: the deadline abandoned it
    if isinstance(exc, Refusal):
        return exc.code  # answered by the transport with its own status (e.g. 403 insufficient_scope)
    error = error_data(exc)  # the code the client got (app.transport.mistakes: the one mapping)
    return error.code if error is not None else INTERNAL_ERROR


class RequestObserver:
    """Access log line, metrics sample and (tools/call) X-Ray subsegment per MCP request."""

    def __init__(
        self,
        *,
        access_log: bool = True,
        log_arguments: bool = False,
        metrics: InvocationMetrics | None = None,
        tracing: ToolTracing | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._access_log = access_log
        self._log_arguments = log_arguments
        self.metrics = metrics
        self.tracing = tracing
        self.audit = audit if audit is not None and audit.enabled else None

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:
            return await call_next(ctx)
        method = ctx.method
        params = ctx.params
        tool = _name(params.get("name")) if method == "tools/call" and params else None
        principal = peek_principal()
        fields = {
            "jsonrpc_id": ctx.request_id,
            "mcp_method": method[:MAX_NAME],
            "mcp_tool": tool,
            "protocol_version": ctx.protocol_version,
            "client_name": _client_name(ctx, params),
            "principal_id": principal.id if principal is not None else None,
        }
        token = request_fields.set(fields)
        started = time.perf_counter()
        try:
            if self.tracing is not None and tool is not None:
                async with self.tracing.tool_call(method, tool):
                    result = await call_next(ctx)
            else:
                result = await call_next(ctx)
        except BaseException as exc:
            if isinstance(exc, InsufficientScope):
                # Which scope was missing, for operators: server-declared names, never the credential.
                fields["missing_scopes"] = " ".join(exc.missing)
            code = _error_code(exc)
            self._done(fields, params, started, code, False)
            if self.audit is not None and tool is not None:
                outcome = "refused" if isinstance(exc, Refusal) else "error"
                self._audit(principal, tool, params, started, outcome, code, None)
            raise
        finally:
            request_fields.reset(token)
        is_error = tool is not None and isinstance(result, dict) and result.get("isError") is True
        self._done(fields, params, started, None, is_error)
        if self.audit is not None and tool is not None:
            task_id = result.get("taskId") if isinstance(result, dict) and result.get("resultType") == "task" else None
            # A quota refusal is an isError result (app.quotas); the audit names it for what it is.
            outcome = "refused" if fields.get("quota_refused") else ("tool_error" if is_error else "ok")
            self._audit(principal, tool, params, started, outcome, None, task_id)
        return result

    def _audit(
        self,
        principal: Any,
        tool: str,
        params: Mapping[str, Any] | None,
        started: float,
        outcome: str,
        code: int | None,
        task_id: Any,
    ) -> None:
        assert self.audit is not None
        arguments = params.get("arguments") if params else None
        self.audit.tool_call(
            principal,
            tool,
            arguments if isinstance(arguments, Mapping) else None,
            outcome=outcome,
            error_code=code,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            task_id=task_id if isinstance(task_id, str) else None,
        )

    def _done(
        self, fields: dict[str, Any], params: Mapping[str, Any] | None, started: float, code: int | None, is_error: bool
    ) -> None:
        duration_ms = (time.perf_counter() - started) * 1000.0
        if self.metrics is not None:
            self.metrics.record(
                fields["mcp_method"], fields["mcp_tool"], duration_ms, code is not None or is_error,
                fields.get("missing_scopes"), fields.get("quota_refused"),
            )
        if not self._access_log or not access_logger.isEnabledFor(logging.INFO):
            return
        extra = dict(fields)
        outcome = "error" if code is not None else ("tool_error" if is_error else "ok")
        extra["outcome"] = outcome
        extra["error_code"] = code
        extra["duration_ms"] = round(duration_ms, 3)
        if self._log_arguments and fields["mcp_tool"] is not None and params:
            extra["tool_arguments"] = params.get("arguments")
        # A message that reads well on its own (plain text, `make invoke`); the fields are the structure.
        access_logger.info(
            "%s%s: %s (%.3f ms)",
            fields["mcp_method"],
            f" {fields['mcp_tool']}" if fields["mcp_tool"] is not None else "",
            outcome if code is None else f"error {code}",
            duration_ms,
            extra=extra,
        )

"""`QuotaGuard`: the MCP server middleware applying quotas to `tools/call` (and so to task creation).

Installed by the composition root after `ScopeGuard`: a call refused for a
missing scope is not counted. Per `tools/call` it counts the call (and the
tool's own override), and, when the call would start a task (the tool
supports tasks and the request declared the extension), the task creation
and a working-task slot. The slot is bound to the new task's id, or given
back when no task came out of it.

What a refused caller sees, in both protocol eras: a tool result with
`isError: true`, a text saying which limit and when to retry, and
`_meta["io.github.mcp-lambda/quota"] = {quota, limit, resets_at, retry_after_s[, tool]}`.
A tool error rather than a JSON-RPC error: the answer is HTTP 200 either way
(no HTTP-level Retry-After applies), and models read tool errors as "adjust
and try again" while clients surface JSON-RPC errors as failures.
The refusal is named in the request's log fields (`quota_refused`), from which
`RequestObserver` records the `QuotaRefusals` EMF metric.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from app.core.errors import StoreUnavailable
from app.observability.logs import request_fields
from app.core.principal import peek_principal
from app.quotas.model import QuotaExceeded
from app.quotas.service import QuotaService

logger = logging.getLogger(__name__)

META_KEY: Final = "io.github.mcp-lambda/quota"


def refusal_result(exc: QuotaExceeded, modern: bool) -> dict[str, Any]:
    return _tool_error(exc.message, exc.data(), modern)


def busy_result(modern: bool) -> dict[str, Any]:
    return _tool_error("the quota store is busy; retry the same call in a moment", {"retry_after_s": 1}, modern)


def _tool_error(text: str, data: dict[str, Any], modern: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": True, "_meta": {META_KEY: data}}
    if modern:
        result["resultType"] = "complete"  # 2026-07-28 results say what they are
    return result


class QuotaGuard:
    def __init__(
        self,
        service: QuotaService,
        *,
        starts_task: Callable[[ServerRequestContext[Any, Any], str], bool] | None = None,
        in_task_run: Callable[[], bool] | None = None,
    ) -> None:
        self.service = service
        self._starts_task = starts_task or (lambda _ctx, _name: False)
        #: A task's run replays its tools/call through this same chain: counted at creation, not again.
        self._in_task_run = in_task_run or (lambda: False)
        #: While True (SnapStart priming), nothing is counted: those calls are no caller's, and the
        #: snapshot must be taken without a write.
        self.suspended = False

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or ctx.request_id is None or self.suspended or self._in_task_run():
            return await call_next(ctx)
        params = ctx.params or {}
        name = params.get("name")
        principal = peek_principal()
        if not isinstance(name, str) or principal is None:
            return await call_next(ctx)  # unknown tools are refused before; unauthenticated never gets here
        pid = principal.id
        creates = self._starts_task(ctx, name)
        try:
            reservation = await anyio.to_thread.run_sync(self._admit, pid, name, creates)
        except QuotaExceeded as exc:
            _mark(exc.limit_name)
            return refusal_result(exc, ctx.protocol_version in MODERN_PROTOCOL_VERSIONS)
        except StoreUnavailable:  # only the working-task cap fails closed (app.quotas.service); not a refusal
            return busy_result(ctx.protocol_version in MODERN_PROTOCOL_VERSIONS)
        if reservation is None:
            return await call_next(ctx)
        task_id: str | None = None
        expires_at = 0.0
        try:
            result = await call_next(ctx)
            if isinstance(result, dict) and result.get("resultType") == "task" and result.get("status") == "working":
                task_id = result.get("taskId")
                expires_at = self.service.now() + result.get("ttlMs", 3_600_000) / 1000.0
            return result
        finally:
            await anyio.to_thread.run_sync(self.service.bind, pid, reservation, task_id, expires_at)

    def _admit(self, pid: str, name: str, creates: bool) -> str | None:
        """Count the call; for a task creation also the creation, then reserve a working-task slot.
        One thread hop for all of it (the store calls block); returns the slot's reservation, if any."""
        self.service.check_call(pid, name)
        if not creates:
            return None
        self.service.check_creation(pid)
        return self.service.reserve(pid)


def _mark(limit_name: str) -> None:
    fields = request_fields.get()
    if isinstance(fields, dict):
        fields["quota_refused"] = limit_name

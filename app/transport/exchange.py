"""One JSON-RPC request through the MCP SDK's kernel, in either protocol era.

The SDK's `serve_one` runs a single request against a `Server` given a
`Connection` and a dispatch context. Its streamable-HTTP transport wraps that
in per-request task groups and memory streams (most of its warm cost); here
the request runs in the caller's task and everything the handler emits is
collected in a list, because the response is delivered whole anyway (Lambda
buffers it) and a list append is the cheapest sink there is.

Handshake-era requests get a `Connection` that is born initialized: every
request must work without an `initialize` having reached this instance.
Server-to-client requests (sampling, elicitation, roots) raise the SDK's
`NoBackChannelError` at once instead of waiting for an answer that cannot come.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner, aclose_shielded
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import REQUEST_TIMEOUT, ProgressToken, RequestId
from starlette.requests import Request
from starlette.types import Scope

from app.core.errors import Refusal
from app.transport import wire
from app.transport.mistakes import INTERNAL, error_data
from app.transport.sdk import has_exit_callbacks, mark_initialized, request_with_body

logger = logging.getLogger(__name__)

#: Version assumed for a handshake-era request that carries no MCP-Protocol-Version header (spec 2025-06-18).
DEFAULT_HANDSHAKE_VERSION: Final = "2025-03-26"


@dataclass(slots=True, eq=False)
class RequestChannel:
    """The dispatch context of one HTTP exchange, and its connection's outbound channel.

    Structurally satisfies the SDK's `DispatchContext` and `Outbound`
    protocols. Notifications are appended to `emitted`; the endpoint decides
    whether they go out as SSE events (client accepts it) or not at all.
    """

    transport: TransportContext
    request_id: RequestId | None
    message_metadata: MessageMetadata
    progress_token: ProgressToken | None = None
    emitted: list[dict[str, Any]] = field(default_factory=list)
    _cancel: anyio.Event | None = None
    #: Set when a middleware refused the request (`app.core.errors.Refusal`): its status and headers go out.
    refusal: Refusal | None = None

    can_send_request: bool = False

    @property
    def cancel_requested(self) -> anyio.Event:
        # Created on first use: most handlers never look at it.
        if self._cancel is None:
            self._cancel = anyio.Event()
        return self._cancel

    async def send_raw_request(self, method: str, params: Mapping[str, Any] | None, opts: Any = None) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = dict(params)
        self.emitted.append(message)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        if self.progress_token is None:
            return
        params: dict[str, Any] = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        await self.notify("notifications/progress", params)


def new_channel(request_id: RequestId | None, params: Any, headers: Mapping[str, str], request: Any) -> RequestChannel:
    return RequestChannel(
        transport=TransportContext(kind="streamable-http", can_send_request=False, headers=headers),
        request_id=request_id,
        message_metadata=ServerMessageMetadata(request_context=request),
        progress_token=progress_token_from_params(params) if isinstance(params, Mapping) else None,
    )


def handshake_connection(channel: RequestChannel, protocol_version: str) -> Connection:
    """A connection as if `initialize` had completed: statelessly, every request stands alone."""
    return mark_initialized(Connection.for_loop(channel, protocol_version_hint=protocol_version))


def modern_connection(protocol_version: str, client_info: Any, client_capabilities: Any) -> Connection:
    """A 2026-07-28 connection from the request's own envelope; no standalone channel exists."""
    return Connection.from_envelope(protocol_version, client_info, client_capabilities)


async def _serve(
    runner: ServerRunner[Any], channel: RequestChannel, method: str, params: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The SDK's `serve_one`, minus the shielded teardown when there is nothing to tear down.

    `serve_one` always unwinds the connection's exit stack under a shielded
    cancel scope; a request whose handlers pushed no cleanup (nearly all of
    them) skips that, which saves a fifth of the kernel's per-request cost.
    """
    try:
        return await runner.on_request(channel, method, params)
    finally:
        if has_exit_callbacks(runner.connection.exit_stack):
            await aclose_shielded(runner.connection)


if sys.version_info >= (3, 12):

    def _start(coro: Any) -> asyncio.Task[Any]:
        # Eager start: a handler that never suspends finishes right here,
        # without a trip through the event loop (Python 3.12+, the Lambda runtimes).
        return asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)

else:  # pragma: no cover - local runs on 3.11 only

    def _start(coro: Any) -> asyncio.Task[Any]:
        return asyncio.ensure_future(coro)


def _consume(task: asyncio.Task[Any]) -> None:
    # An abandoned handler that fails later must not log "exception was never retrieved".
    if not task.cancelled() and task.exception() is not None:
        logger.warning("abandoned handler failed after its deadline", exc_info=task.exception())


def _error_message(request_id: RequestId | None, exc: Exception) -> dict[str, Any]:
    error = error_data(exc)  # the one exception-to-wire mapping (app.transport.mistakes)
    if error is None:
        # A server bug, not the client's fault: full detail to the log, none on the wire.
        logger.error("handler raised", exc_info=exc, extra={"jsonrpc_id": request_id})
        error = INTERNAL
    return {"jsonrpc": "2.0", "id": request_id, "error": error.model_dump(mode="json", exclude_none=True)}


async def run_request(
    server: Server[Any],
    channel: RequestChannel,
    method: str,
    params: Mapping[str, Any] | None,
    connection: Connection,
    lifespan_state: Any,
    budget_s: float,
) -> dict[str, Any]:
    """Serve one request and return its JSON-RPC response message (result or error).

    The handler runs in its own task so the deadline can *abandon* it: a sync
    tool blocked in a worker thread cannot be cancelled, and waiting for it
    would let API Gateway's 29 s cut-off answer instead of us.
    """
    request_id = channel.request_id
    task = _start(_serve(ServerRunner(server, connection, lifespan_state), channel, method, params))
    if not task.done():
        try:
            await asyncio.wait((task,), timeout=budget_s)
        except asyncio.CancelledError:
            task.cancel()
            raise
    if not task.done():
        task.cancel()
        task.add_done_callback(_consume)
        logger.warning("request exceeded its deadline", extra={"jsonrpc_id": request_id, "method": method})
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": REQUEST_TIMEOUT,
                # The abandoned handler may still finish (a sync tool cannot be stopped), so a write may have
                # taken effect: the agent must retry the same call, not a new one.
                "message": f"Request timed out after {budget_s:.1f} s; it may still have taken effect: "
                "retry a call that changes something with the same idempotency_key (or read before retrying)",
                "data": {"timeoutSeconds": round(budget_s, 3)},
            },
        }
    exc = task.exception()
    if exc is not None:
        if not isinstance(exc, Exception):  # KeyboardInterrupt & co. are not ours to translate
            raise exc
        if isinstance(exc, Refusal):  # e.g. a tool outside the caller's scopes: an HTTP answer of its own
            channel.refusal = exc
            return wire.error_object(request_id, exc.code, exc.message, exc.data)
        return _error_message(request_id, exc)
    return {"jsonrpc": "2.0", "id": request_id, "result": task.result()}


@dataclass(slots=True, eq=False)
class Exchange:
    """One HTTP request that passed the transport checks: its facts, and how to answer it.

    Built by the endpoint, consumed by an era module (`app.transport.handshake`,
    `app.transport.modern`), which decides what to dispatch and hands back a `wire.Reply`.
    """

    server: Server[Any]
    lifespan_state: Any
    budget_s: float
    scope: Scope
    headers: dict[str, str]
    #: Every header line, duplicates kept (the modern era refuses duplicated routing headers).
    pairs: list[tuple[str, str]]
    body: bytes
    json_ok: bool
    sse_ok: bool
    #: The last refusal a dispatched request met; `deliver` answers with its status and headers.
    refusal: Refusal | None = None

    def http_request(self) -> Request:
        # Handlers may read the HTTP request from their context; the body was
        # already consumed, so it is primed to keep `await request.body()` working.
        return request_with_body(self.scope, self.body)

    async def dispatch(
        self,
        request_id: RequestId,
        method: str,
        params: Mapping[str, Any] | None,
        connection_for: Any,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run one request; return its response message and the notifications it emitted.

        `connection_for(channel)` builds the era's connection around the request's channel.
        """
        channel = new_channel(request_id, params, self.headers, self.http_request())
        response = await run_request(
            self.server, channel, method, params, connection_for(channel), self.lifespan_state, self.budget_s
        )
        if channel.refusal is not None:
            self.refusal = channel.refusal
        return response, channel.emitted

    def deliver(self, response: dict[str, Any], emitted: list[dict[str, Any]], status: int = 200) -> wire.Reply:
        """JSON when nothing was emitted (or SSE is not accepted); else the notifications, then the response, as SSE.

        A refused request is answered with the refusal's status and headers (e.g. 403 and its challenge).
        """
        if self.refusal is not None:
            return self.with_refusal_headers(self._reply(response, emitted, self.refusal.status))
        return self._reply(response, emitted, status)

    def with_refusal_headers(self, reply: wire.Reply) -> wire.Reply:
        """`reply` plus the headers of the refusal a dispatched request met, if any."""
        if self.refusal is None or not self.refusal.headers:
            return reply
        return wire.Reply(reply.status, reply.body, reply.content_type, reply.headers + self.refusal.headers)

    def _reply(self, response: dict[str, Any], emitted: list[dict[str, Any]], status: int) -> wire.Reply:
        if emitted and self.sse_ok:
            emitted.append(response)
            return wire.sse_reply(emitted, status)
        if not self.json_ok:  # an SSE-only client still gets the form it asked for
            return wire.sse_reply((response,), status)
        return wire.json_reply(response, status)

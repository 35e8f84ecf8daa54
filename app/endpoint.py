"""The MCP endpoint: one POST in, one complete answer out, in either protocol era.

Everything a stateless endpoint must check before the SDK sees a request
lives here, in the order a client's mistake is most cheaply found: HTTP method,
Host/Origin, Accept, Content-Type, body size, JSON syntax, then the era's own
envelope rules. Nothing is kept between requests except the server definition.

Why not the SDK's `StreamableHTTPSessionManager`: its `run()` lifecycle can be
entered once per process (Mangum enters lifespans per invocation), and its
per-request task group and memory streams are most of its warm cost. The
single-exchange pieces it is built from (`serve_one`, the modern inbound
classifier, `Mcp-Param-*` validation) are used as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack
from typing import Any, Final

from mcp.server.lowlevel.server import Server
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
    unsupported_protocol_version_rejection,
    validate_mcp_param_headers,
)
from mcp_types import (
    HEADER_MISMATCH,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PROTOCOL_VERSION_META_KEY,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, KNOWN_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app import wire
from app.config import Settings
from app.exchange import (
    DEFAULT_HANDSHAKE_VERSION,
    handshake_connection,
    modern_connection,
    new_channel,
    run_request,
)
from app.origin import OriginPolicy

logger = logging.getLogger(__name__)

_BATCH_VERSION: Final = "2025-03-26"  # the only revision with JSON-RPC batches
_ALLOW_POST: Final = ((b"allow", b"POST"),)
#: Never served: its response is a stream that outlives the request (Lambda buffers
#: whole responses) and is fed by an event bus no two instances share.
_LISTEN: Final = "subscriptions/listen"


class _HeaderPairs(Mapping[str, str]):
    """Raw header pairs seen as a mapping whose `items()` keeps duplicates.

    The SDK's `Mcp-Param-*` validator spots a duplicated header by iterating
    `items()`; a folded dict would hide it.
    """

    __slots__ = ("_pairs", "_folded")

    def __init__(self, pairs: list[tuple[str, str]], folded: dict[str, str]) -> None:
        self._pairs = pairs
        self._folded = folded

    def __getitem__(self, key: str) -> str:
        return self._folded[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._folded)

    def __len__(self) -> int:
        return len(self._folded)

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return self._pairs


def _header_pairs(scope: Scope) -> list[tuple[str, str]]:
    """Every header line, duplicates kept, names lowercased, values trimmed."""
    return [(name.decode("latin-1").lower(), value.decode("latin-1").strip()) for name, value in scope["headers"]]


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds `limit` (nothing more is buffered)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _valid_id(value: Any) -> bool:
    return (isinstance(value, (str, int)) and not isinstance(value, bool)) or value is None


def _request_shape_error(message: dict[str, Any]) -> str | None:
    """Why a request object is malformed, or None. Notifications have no `id`."""
    if message.get("jsonrpc") != "2.0":
        return 'Invalid request: "jsonrpc" must be "2.0"'
    if not isinstance(message.get("method"), str):
        return 'Invalid request: "method" must be a string'
    if "id" in message and (message["id"] is None or not _valid_id(message["id"])):
        return 'Invalid request: "id" must be a string or an integer'
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        return 'Invalid request: "params" must be an object'
    return None


def _is_response(message: dict[str, Any]) -> bool:
    return "method" not in message and "id" in message and ("result" in message or "error" in message)


def _has_modern_envelope(message: Any) -> bool:
    if not isinstance(message, dict) or message.get("method") == "initialize":
        return False
    params = message.get("params")
    return isinstance(params, dict) and isinstance(params.get("_meta"), dict) and PROTOCOL_VERSION_META_KEY in params["_meta"]


def _rejection_reply(rejection: InboundLadderRejection, request_id: Any) -> wire.Reply:
    status = ERROR_CODE_HTTP_STATUS.get(rejection.code, 400)
    return wire.error_reply(status, request_id, rejection.code, rejection.message, rejection.data)


class McpEndpoint:
    """ASGI app serving MCP's streamable HTTP statelessly for one `Server`."""

    def __init__(self, server: Server[Any], settings: Settings) -> None:
        self._server = server
        self._settings = settings
        self._policy = OriginPolicy.build(settings.allowed_origins, settings.allowed_hosts)
        self._lifespan_state: Any = None
        self._lifespan_stack: AsyncExitStack | None = None

    async def _lifespan(self) -> Any:
        # Entered once per process, on first use, and kept: a Lambda execution
        # environment has no shutdown hook, and Mangum's lifespan is off.
        if self._lifespan_stack is None:
            stack = AsyncExitStack()
            self._lifespan_state = await stack.enter_async_context(self._server.lifespan(self._server))
            self._lifespan_stack = stack
        return self._lifespan_state

    async def aclose(self) -> None:
        if self._lifespan_stack is not None:
            stack, self._lifespan_stack = self._lifespan_stack, None
            await stack.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reply = await self.respond(scope, receive)
        headers = [(b"content-length", str(len(reply.body)).encode())]
        if reply.content_type is not None:
            headers.append((b"content-type", reply.content_type))
        headers.extend(reply.headers)
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    # -- HTTP layer -------------------------------------------------------

    async def respond(self, scope: Scope, receive: Receive) -> wire.Reply:
        if scope["method"] != "POST":
            reply = wire.error_reply(
                405, None, INVALID_REQUEST, "Method Not Allowed: this stateless endpoint accepts POST only"
            )
            return wire.Reply(reply.status, reply.body, reply.content_type, _ALLOW_POST)
        pairs = _header_pairs(scope)
        headers = dict(pairs)  # last one wins; the modern era refuses duplicated routing headers
        refusal = self._policy.refusal(headers.get("host"), headers.get("origin"))
        if refusal is not None:
            return wire.error_reply(refusal[0], None, INVALID_REQUEST, refusal[1])
        json_ok, sse_ok = wire.accepts(headers.get("accept", ""))
        if not (json_ok or sse_ok):
            return wire.error_reply(
                406, None, INVALID_REQUEST, "Not Acceptable: accept application/json and/or text/event-stream"
            )
        if not wire.is_json_content_type(headers.get("content-type", "")):
            return wire.error_reply(415, None, INVALID_REQUEST, "Unsupported Media Type: send application/json")
        limit = self._settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return self._too_large()
        body = await _read_body(receive, limit)
        if body is None:
            return self._too_large()
        try:
            decoded = wire.decode_json(body)
        except wire.ParseFailure:
            return wire.PARSE_ERROR_REPLY
        version = headers.get("mcp-protocol-version")
        ctx = _Exchange(self, scope, headers, pairs, body, sse_ok=sse_ok, json_ok=json_ok)
        if (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS) or (
            version is None and _has_modern_envelope(decoded)
        ):
            return await ctx.modern(decoded, version)
        return await ctx.handshake(decoded, version or DEFAULT_HANDSHAKE_VERSION)

    def _too_large(self) -> wire.Reply:
        return wire.error_reply(
            413, None, INVALID_REQUEST, f"Payload Too Large: the limit is {self._settings.max_body_bytes} bytes"
        )

    def budget_s(self, scope: Scope) -> float:
        """Seconds this request may take: the local deadline, or Lambda's remaining time minus a margin."""
        budget = self._settings.request_timeout_s
        context = scope.get("aws.context")
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if remaining_ms is not None:
            budget = min(budget, remaining_ms() / 1000.0 - self._settings.deadline_margin_s)
        return max(budget, 0.001)


class _Exchange:
    """The per-request half of the endpoint: one instance per HTTP request."""

    __slots__ = ("endpoint", "scope", "headers", "pairs", "body", "sse_ok", "json_ok")

    def __init__(
        self,
        endpoint: McpEndpoint,
        scope: Scope,
        headers: dict[str, str],
        pairs: list[tuple[str, str]],
        body: bytes,
        *,
        sse_ok: bool,
        json_ok: bool,
    ) -> None:
        self.endpoint = endpoint
        self.scope = scope
        self.headers = headers
        self.pairs = pairs
        self.body = body
        self.sse_ok = sse_ok
        self.json_ok = json_ok

    def _starlette_request(self) -> Request:
        # Handlers may read the HTTP request from their context; the body was
        # already consumed, so it is primed to keep `await request.body()` working.
        request = Request(self.scope)
        request._body = self.body  # noqa: SLF001 - Starlette's own cache slot for the body
        return request

    def _deliver(self, response: dict[str, Any], emitted: list[dict[str, Any]], status: int) -> wire.Reply:
        """JSON when nothing was emitted (or SSE is not accepted); else notifications then response, as SSE."""
        if emitted and self.sse_ok:
            emitted.append(response)
            return wire.sse_reply(emitted, status)
        if not self.json_ok:  # SSE-only client: still answer in the form it asked for
            return wire.sse_reply((response,), status)
        return wire.json_reply(response, status)

    # -- handshake era (2024-11-05 .. 2025-11-25) ---------------------------

    async def handshake(self, decoded: Any, version: str) -> wire.Reply:
        if isinstance(decoded, list):
            return await self._batch(decoded, version)
        if not isinstance(decoded, dict):
            return wire.invalid_request(None, "Invalid request: body must be a JSON-RPC object")
        if _is_response(decoded):
            return wire.ACCEPTED  # a posted response answers nothing we asked: statelessly, nothing waits for it
        problem = _request_shape_error(decoded)
        if problem is not None:
            return wire.invalid_request(decoded.get("id") if _valid_id(decoded.get("id")) else None, problem)
        if "id" not in decoded:
            return wire.ACCEPTED  # notifications carry no state a stateless server could keep
        response, emitted = await self._serve_handshake(decoded, version)
        return self._deliver(response, emitted, 200)

    async def _serve_handshake(self, message: dict[str, Any], version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        endpoint = self.endpoint
        params = message.get("params")
        channel = new_channel(message["id"], params, self.headers, self._starlette_request())
        connection = handshake_connection(channel, version)
        response = await run_request(
            endpoint._server,  # noqa: SLF001 - same module family
            channel,
            message["method"],
            params,
            connection,
            endpoint._lifespan_state if endpoint._lifespan_stack else await endpoint._lifespan(),  # noqa: SLF001
            endpoint.budget_s(self.scope),
        )
        return response, channel.emitted

    async def _batch(self, batch: list[Any], version: str) -> wire.Reply:
        if version != _BATCH_VERSION:
            return wire.invalid_request(None, f"Invalid request: JSON-RPC batches are not supported at {version}")
        if not batch:
            return wire.invalid_request(None, "Invalid request: empty batch")
        responses: list[dict[str, Any]] = []
        emitted: list[dict[str, Any]] = []
        for item in batch:
            if not isinstance(item, dict):
                responses.append(wire.error_object(None, INVALID_REQUEST, "Invalid request: batch member is not an object"))
                continue
            if _is_response(item):
                continue
            problem = _request_shape_error(item)
            if problem is not None:
                responses.append(wire.error_object(item.get("id") if _valid_id(item.get("id")) else None, INVALID_REQUEST, problem))
                continue
            if "id" not in item:
                continue
            response, notes = await self._serve_handshake(item, version)
            responses.append(response)
            emitted.extend(notes)
        if not responses:
            return wire.ACCEPTED
        if emitted and self.sse_ok:
            return wire.sse_reply([*emitted, *responses])
        return wire.json_reply(responses)

    # -- modern era (2026-07-28) --------------------------------------------

    async def modern(self, decoded: Any, version: str | None) -> wire.Reply:
        if not isinstance(decoded, dict):
            return wire.invalid_request(None, "Invalid request: body must be a single JSON-RPC request object")
        if "id" not in decoded:
            if not isinstance(decoded.get("method"), str) or _is_response(decoded):
                return wire.invalid_request(None, "Invalid request: body must be a single JSON-RPC request object")
            rejection = unsupported_protocol_version_rejection(version or "")
            if rejection is not None:
                return _rejection_reply(rejection, None)
            return wire.ACCEPTED  # this era defines no client-to-server notifications: acknowledged, dropped
        problem = _request_shape_error(decoded)
        if problem is not None:
            return wire.invalid_request(decoded.get("id") if _valid_id(decoded.get("id")) else None, problem)
        request_id = decoded["id"]
        duplicated = find_duplicated_routing_header(self.pairs)
        if duplicated is not None:
            return wire.error_reply(400, request_id, HEADER_MISMATCH, f"{duplicated} header appears more than once")
        if version is not None and version not in KNOWN_PROTOCOL_VERSIONS and not _has_modern_envelope(decoded):
            # Neither era's version: name every revision served, handshake ones included.
            rejection = unsupported_protocol_version_rejection(version, KNOWN_PROTOCOL_VERSIONS)
            assert rejection is not None
            return _rejection_reply(rejection, request_id)
        verdict = classify_inbound_request(decoded, headers=self.headers)
        if isinstance(verdict, InboundLadderRejection):
            return _rejection_reply(verdict, request_id)
        method: str = decoded["method"]
        params: dict[str, Any] | None = decoded.get("params")
        if method == "tools/call":
            rejection = self._param_header_rejection(params or {})
            if rejection is not None:
                return _rejection_reply(rejection, request_id)
        if method == _LISTEN:
            return wire.error_reply(
                404,
                request_id,
                METHOD_NOT_FOUND,
                "subscriptions/listen is not served: this stateless endpoint answers every request with one "
                "complete response, so it cannot hold a stream open. Poll the list methods instead.",
            )
        endpoint = self.endpoint
        channel = new_channel(request_id, params, self.headers, self._starlette_request())
        connection = modern_connection(verdict.protocol_version, verdict.client_info, verdict.client_capabilities)
        response = await run_request(
            endpoint._server,  # noqa: SLF001
            channel,
            method,
            params,
            connection,
            endpoint._lifespan_state if endpoint._lifespan_stack else await endpoint._lifespan(),  # noqa: SLF001
            endpoint.budget_s(self.scope),
        )
        return self._deliver(response, channel.emitted, wire.modern_status(response))

    def _param_header_rejection(self, params: dict[str, Any]) -> InboundLadderRejection | None:
        """`Mcp-Param-*` headers must agree with the arguments annotated `x-mcp-header`."""
        lookup = self.endpoint._server.get_tool_input_schema  # noqa: SLF001
        name = params.get("name")
        arguments = params.get("arguments")
        if lookup is None or not isinstance(name, str):
            return None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            return None  # the kernel's params validation answers this one
        if not arguments and not any(key.startswith("mcp-param-") for key in self.headers):
            return None
        schema = lookup(name)
        if schema is None:
            return None
        return validate_mcp_param_headers(schema, arguments, _HeaderPairs(self.pairs, self.headers))

"""The MCP endpoint: one POST in, one complete answer out, in either protocol era.

Everything a stateless endpoint must check before the SDK sees a request
lives here, in the order a client's mistake is most cheaply found: HTTP method,
Host/Origin, Accept, Content-Type, body size, JSON syntax. Then the request is
routed to its era (`app.transport.handshake`, `app.transport.modern`), which applies its own
envelope rules. Nothing is kept between requests except the server definition.

Why not the SDK's `StreamableHTTPSessionManager`: its `run()` lifecycle can be
entered once per process (Mangum enters lifespans per invocation), and its
per-request task group and memory streams are most of its warm cost. The
single-exchange pieces it is built from (`serve_one`, the modern inbound
classifier, `Mcp-Param-*` validation) are used as they are.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from mcp.server.lowlevel.server import Server
from mcp_types import INVALID_REQUEST
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import Receive, Scope, Send

from app.transport import handshake, modern, wire
from app.transport.config import Settings
from app.transport.exchange import DEFAULT_HANDSHAKE_VERSION, Exchange
from app.transport.lifespan import ServerLifespan
from app.transport.origin import OriginPolicy

if TYPE_CHECKING:  # Lambda's context, typed by Mangum's Protocol (the one the app uses); no import at run time
    from mangum.types import LambdaContext

logger = logging.getLogger(__name__)

_ALLOW_POST: Final = ((b"allow", b"POST"),)


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


class McpEndpoint:
    """ASGI app serving MCP's streamable HTTP statelessly for one `Server`."""

    def __init__(self, server: Server[Any], settings: Settings) -> None:
        self._server = server
        self._settings = settings
        self._policy = OriginPolicy.build(settings.allowed_origins, settings.allowed_hosts)
        self._lifespan = ServerLifespan(server)  # entered at the first request: see app.transport.lifespan

    async def aclose(self) -> None:
        await self._lifespan.aclose()

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
        lifespan = self._lifespan
        lifespan_state = lifespan.state if lifespan.entered else await lifespan.enter()
        exchange = Exchange(
            server=self._server, lifespan_state=lifespan_state, budget_s=self.budget_s(scope), scope=scope,
            headers=headers, pairs=pairs, body=body, json_ok=json_ok, sse_ok=sse_ok,
        )  # fmt: skip
        # Era routing: a version header that is not a handshake revision, or
        # (without the header) a body carrying the 2026-07-28 envelope.
        version = headers.get("mcp-protocol-version")
        if (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS) or (
            version is None and modern.has_envelope(decoded)
        ):
            return await modern.answer(exchange, decoded, version)
        return await handshake.answer(exchange, decoded, version or DEFAULT_HANDSHAKE_VERSION)

    def _too_large(self) -> wire.Reply:
        return wire.error_reply(
            413, None, INVALID_REQUEST, f"Payload Too Large: the limit is {self._settings.max_body_bytes} bytes"
        )

    def budget_s(self, scope: Scope) -> float:
        """Seconds this request may take: the local deadline, or Lambda's remaining time minus a margin."""
        budget = self._settings.request_timeout_s
        context: LambdaContext | None = scope.get("aws.context")  # set by Mangum; absent under uvicorn
        if context is not None:
            budget = min(budget, context.get_remaining_time_in_millis() / 1000.0 - self._settings.deadline_margin_s)
        return max(budget, 0.001)

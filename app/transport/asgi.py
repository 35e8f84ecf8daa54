"""Public factory: any `MCPServer` becomes a stateless ASGI app.

    from mcp.server.mcpserver import MCPServer
    from app import create_asgi_app

    server = MCPServer("my-server")

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    app = create_asgi_app(server)          # serve with uvicorn, or wrap for Lambda

The app is plain Starlette: the MCP endpoint is one route; other routes
(metadata documents, health) sit beside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, EmptyResult, SetLevelRequestParams
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.transport.config import Settings
from app.transport.endpoint import McpEndpoint
from app.transport.routes import endpoint_paths, endpoint_routes, health_route
from app.transport.mistakes import ClientMistakeGuard
from app.transport.sdk import (
    Middleware,
    drop_otel_middleware,
    install_middleware,
    lowlevel_server,
    middleware,
    remove_request_handler,
)


async def _acknowledge_set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
    """Handshake-era `logging/setLevel`, statelessly: acknowledged without effect.

    The level is per-connection state and there is no connection: the next
    request may land on another instance. Log notifications a handler emits
    go out on that request's own response at every level.
    """
    return EmptyResult()


class UnknownToolGuard:
    """`tools/call` of a tool that does not exist is a protocol error (-32602), not a tool result.

    MCPServer answers it with an `isError` result; the MCP spec (2025-11-25,
    "Error Handling") lists unknown tools among protocol errors. Invalid
    *arguments* stay tool execution errors, as that revision says, so a model
    can read the message and correct itself.
    """

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self._lookup = lookup

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.params:
            name = ctx.params.get("name")
            if isinstance(name, str) and self._lookup(name) is None:
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}", data={"name": name})
        return await call_next(ctx)


def protocol_guards(server: MCPServer[Any] | Server[Any]) -> list[Middleware]:
    """The transport's innermost server middleware, outermost first: client mistakes answered `-32602`.

    `UnknownToolGuard`: a tools/call of a name never registered. `ClientMistakeGuard`
    (an `MCPServer` only: it reads its listings): unknown prompts, missing prompt
    arguments, unknown completion refs.
    """
    core = lowlevel_server(server)
    guards: list[Middleware] = []
    if core.get_tool_input_schema is not None:
        guards.append(UnknownToolGuard(core.get_tool_input_schema))
    if isinstance(server, MCPServer):
        guards.append(ClientMistakeGuard(server))
    return guards


def create_asgi_app(
    server: MCPServer[Any] | Server[Any],
    settings: Settings | None = None,
    *,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Wrap `server` into a Starlette app serving MCP statelessly at `settings.path`.

    The server is adapted once, here, to what a stateless endpoint can honour:
    no `subscriptions/listen`, an acknowledging `logging/setLevel`, and no
    per-request OpenTelemetry span unless `settings.otel`.
    """
    settings = settings or Settings.from_env()
    core = lowlevel_server(server)
    if not settings.otel:
        # The SDK installs an OpenTelemetry span per request; without a tracer
        # provider it only costs time. Tracing on Lambda goes through X-Ray.
        drop_otel_middleware(core)
    # `subscriptions/listen` needs a response stream that outlives its request
    # and an event bus shared by every instance; neither exists here. Without
    # the handler the SDK stops advertising listChanged/subscribe at 2026-07-28,
    # so clients know to poll rather than wait for notifications.
    remove_request_handler(core, "subscriptions/listen")
    if not any(isinstance(m, (UnknownToolGuard, ClientMistakeGuard)) for m in middleware(core)):
        # A bare server (a composed product declares its whole chain, these included: app.main).
        for guard in protocol_guards(server):
            install_middleware(core, guard)
    if core.get_request_handler("logging/setLevel") is None:
        core.add_request_handler("logging/setLevel", SetLevelRequestParams, _acknowledge_set_level)
    endpoint = McpEndpoint(core, settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Only runs under servers that drive ASGI lifespan (uvicorn); Lambda
        # keeps it off and the endpoint enters the server lifespan lazily.
        try:
            yield
        finally:
            await endpoint.aclose()

    # /mcp and /mcp/ are served alike (POST), every other method gets the
    # endpoint's 405, and GET /health says who is serving; see app.transport.routes.
    routes: list[BaseRoute] = [*endpoint_routes(settings.path, endpoint), health_route(core.name, core.version)]
    routes.extend(extra_routes)
    app = McpApp(endpoint, endpoint_paths(settings.path), routes=routes, lifespan=lifespan)
    # No redirect anywhere: a 307 drops a stage prefix from Location and some clients cannot follow it.
    app.router.redirect_slashes = False
    return app


class McpApp(Starlette):
    """The Starlette app, with the one hot route taken directly.

    A POST to the MCP path is what nearly every request is; Starlette would reach
    the same endpoint through its error and exception middleware and its router
    (~6 µs a request, measured: 130.5 -> 123.9 µs at 2026-07-28). The endpoint
    answers every error itself, so those layers have nothing to do for it. Every
    other request (health, metadata, 405s, 404s) goes through Starlette as usual,
    and `routes` stays the full list the access-control layer routes by.
    """

    def __init__(self, endpoint: ASGIApp, paths: tuple[str, ...], **options: Any) -> None:
        super().__init__(**options)
        self._endpoint = endpoint
        self._paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self._paths:
            await self._endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

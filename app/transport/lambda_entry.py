"""Public factory: any `MCPServer` becomes a Lambda handler behind API Gateway.

    handler = create_lambda_handler(server)   # in handler.py, at import time
    settle_heap()                             # last line of start-up: tail latency

Serves API Gateway HTTP API (payload v2), REST API (v1), Lambda Function URLs
and ALB, through Mangum with the ASGI lifespan off (it would otherwise run on
every invocation). The app is built once per execution environment.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from mangum import Mangum
from mangum.handlers import HTTPGateway
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.transport.asgi import create_asgi_app
from app.transport.config import Settings
from app.transport.sdk import load_async_backend

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class StripStage:
    """Route `/{stage}/mcp` like `/mcp`, and tell the app its external prefix.

    A REST API's `requestContext.path` and an HTTP API with a named stage put
    the stage in the path Mangum hands over; a custom domain's base-path
    mapping adds its own prefix. The prefix moves to `root_path`, where
    URL-building code (the protected-resource metadata) finds it.
    """

    def __init__(self, app: ASGIApp, base_path: str = "") -> None:
        self.app = app
        self.base_path = base_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            prefix = ""
            if self.base_path and path.startswith(self.base_path + "/"):
                prefix = self.base_path
            else:
                stage = (scope.get("aws.event") or {}).get("requestContext", {}).get("stage")
                if stage and stage != "$default" and path.startswith(f"/{stage}/"):
                    prefix = f"/{stage}"
            if prefix:
                scope = dict(scope)
                scope["path"] = path[len(prefix) :]
                scope["root_path"] = scope.get("root_path", "") + prefix
            elif self.base_path:
                scope = dict(scope)
                scope["root_path"] = scope.get("root_path", "") + self.base_path
        await self.app(scope, receive, send)


class HTTPGatewayOnce(HTTPGateway):
    """Mangum's HTTP API (v2) and Function URL handler, its ASGI scope built once per invocation.

    Mangum's `scope` is a property that rebuilds the scope (headers decoded, query string
    encoded: ~3 µs) at every read, and Mangum reads it twice per invocation: for the request,
    then for the payload version when it shapes the response. A handler object serves one
    invocation, so the first build is the one both reads get.
    """

    @cached_property
    def scope(self) -> Scope:  # type: ignore[override]
        return super().scope


def lambda_adapter(app: ASGIApp, settings: Settings) -> LambdaHandler:
    """Any ASGI app as a Lambda handler: stage/base-path stripping, then Mangum with the lifespan off.

    The composition root puts its own layers (access control) around the app
    first; SnapStart priming adapts the unprotected app the same way.
    """
    load_async_backend()  # start-up work: otherwise the first request imports anyio's backend
    with warnings.catch_warnings():
        # Mangum 0.22 calls asyncio.get_event_loop(), deprecated on 3.12+ outside a loop.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="mangum")
        warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)
        return Mangum(StripStage(app, settings.api_base_path), lifespan="off", custom_handlers=[HTTPGatewayOnce])


def create_lambda_handler(
    server: MCPServer[Any] | Server[Any],
    settings: Settings | None = None,
    *,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> LambdaHandler:
    """Wrap `server` into a `handler(event, context)` for Lambda.

    `wrap` lets the caller put middleware (auth, CORS) around the app;
    `extra_routes` sit beside the MCP endpoint (as in `create_asgi_app`).
    """
    settings = settings or Settings.from_env()
    app: ASGIApp = create_asgi_app(server, settings, extra_routes=extra_routes)
    if wrap is not None:
        app = wrap(app)
    return lambda_adapter(app, settings)


#: Young-generation threshold of the collector (Python's default: 2000). A warm tools/call leaves a
#: few dozen tracked objects, so the default runs a collection about every hundred calls: in the p99.
GC_GEN0_THRESHOLD = 10_000


def settle_heap() -> None:
    """End of start-up, once per process: tail latency is the collector's.

    Everything built so far (modules, pydantic schemas, the server) lives as long as the
    process, so it moves to the permanent generation (`gc.freeze`): no full collection
    rescans it (measured: a ~60-100 ms pause about every 20,000 warm calls, gone). The young
    generation's threshold goes up so collections run five times less often. No `gc.collect()`
    first: it costs tens of ms of cold start to reclaim a little start-up garbage.

    Process-wide, so the factories never call it: the Lambda entry does, as its last line
    (`app.main.Product.lambda_handler()` for the product; `handler.py` for a team's own server).
    """
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)

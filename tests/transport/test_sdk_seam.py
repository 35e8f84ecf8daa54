"""One test per assumption `app.transport.sdk` makes about the SDK, Starlette and the stdlib.

Each fails with a message naming what changed, so an `mcp` (or Starlette)
upgrade that breaks an assumption says so here instead of somewhere deep in
the suite. The numbers match the list in `app/transport/sdk.py`.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import httpx
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.shared.inbound import validate_mcp_param_headers

from app import Settings, create_asgi_app
from app.core.events import modern_meta
from app.transport import sdk

MODERN = "2026-07-28"


def _server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("seam")

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    return server


def _discover(server: MCPServer[Any]) -> dict[str, Any]:
    """`server/discover` at 2026-07-28 through the real transport."""
    app = create_asgi_app(server, Settings())
    meta = modern_meta("seam")

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            return await client.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}},
                headers={
                    "accept": "application/json",
                    "mcp-protocol-version": MODERN,
                    "mcp-method": "server/discover",
                },
            )

    response = asyncio.run(go())
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_1_mcpserver_keeps_its_lowlevel_server_in_lowlevel_server_attribute() -> None:
    server = _server()
    assert isinstance(getattr(server, "_lowlevel_server", None), Server), (
        "MCPServer no longer has a `_lowlevel_server` Server: find the new accessor and update sdk.lowlevel_server"
    )
    assert sdk.lowlevel_server(server) is server._lowlevel_server  # noqa: SLF001
    assert sdk.lowlevel_server(server._lowlevel_server) is server._lowlevel_server  # noqa: SLF001


def test_2_request_handlers_dict_drives_listen_and_advertised_capabilities() -> None:
    core = sdk.lowlevel_server(_server())
    handlers = getattr(core, "_request_handlers", None)
    assert isinstance(handlers, dict) and "subscriptions/listen" in handlers, (
        "Server._request_handlers is no longer a dict holding subscriptions/listen: sdk.remove_request_handler "
        "needs the SDK's new way to unregister a method"
    )
    # Served through the transport, which removes listen: nothing may advertise listChanged.
    capabilities = _discover(_server())["capabilities"]
    promised = [
        f"{kind}.{flag}"
        for kind, value in capabilities.items()
        if isinstance(value, dict)
        for flag in ("listChanged", "subscribe")
        if value.get(flag)
    ]
    assert not promised, (
        "with subscriptions/listen removed the SDK still advertises listChanged/subscribe at 2026-07-28: "
        f"capabilities are no longer derived from the handler dict ({capabilities})"
    )


def test_3_otel_middleware_is_installed_by_default_and_dropped() -> None:
    from mcp.server._otel import OpenTelemetryMiddleware

    core = sdk.lowlevel_server(_server())
    assert any(isinstance(m, OpenTelemetryMiddleware) for m in core.middleware), (
        "a new MCPServer no longer installs mcp.server._otel.OpenTelemetryMiddleware: sdk.drop_otel_middleware "
        "may be dead code now, or the span moved elsewhere"
    )
    sdk.drop_otel_middleware(core)
    assert not any(isinstance(m, OpenTelemetryMiddleware) for m in core.middleware)


def test_4_server_middleware_is_a_list_whose_first_entry_is_outermost() -> None:
    server = _server()
    core = sdk.lowlevel_server(server)
    assert isinstance(core.middleware, list), "Server.middleware is no longer a mutable list (provisional API changed)"
    order: list[str] = []

    class Outer:
        async def __call__(self, ctx: Any, call_next: Any) -> Any:
            order.append("outer")
            return await call_next(ctx)

    class Inner:
        async def __call__(self, ctx: Any, call_next: Any) -> Any:
            order.append("inner")
            return await call_next(ctx)

    sdk.install_middleware(core, Inner())
    sdk.install_middleware(core, Outer(), outermost=True)
    sdk.install_middleware(core, Outer(), outermost=True)  # replaces, never duplicates
    assert sum(isinstance(m, Outer) for m in core.middleware) == 1
    _discover(server)
    assert order == ["outer", "inner"], f"Server.middleware no longer runs first entry outermost: {order}"
    # The whole chain set at once (what the composition root does), read back in the order given.
    inner, outer = Inner(), Outer()
    sdk.set_middleware(core, [outer, inner])
    order.clear()
    _discover(server)
    assert order == ["outer", "inner"] and sdk.installed(core, Inner) is inner and sdk.installed(core, Exception) is None


def test_3_and_4_the_sdk_span_is_found_in_the_chain_the_sdk_built() -> None:
    core = sdk.lowlevel_server(_server())
    assert isinstance(sdk.otel_middleware(core), sdk.OtelMiddleware), (
        "a new MCPServer's chain holds no OpenTelemetryMiddleware: app.main.server_chain cannot place it"
    )
    sdk.drop_otel_middleware(core)
    assert sdk.otel_middleware(core) is None


def test_5_connection_initialized_is_an_event_the_kernel_honours() -> None:
    connection = Connection.from_envelope(MODERN, None, None)
    event = getattr(connection, "initialized", None)
    assert event is not None and hasattr(event, "set") and hasattr(event, "is_set"), (
        "Connection.initialized is no longer an event: sdk.mark_initialized must change"
    )
    assert sdk.mark_initialized(connection) is connection and connection.initialized.is_set()


def test_5_handshake_request_without_initialize_is_served() -> None:
    """What (5) buys: tools/list with no prior initialize, as on a fresh Lambda instance."""
    app = create_asgi_app(_server(), Settings())

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            return await client.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"accept": "application/json", "mcp-protocol-version": "2025-11-25"},
            )

    response = asyncio.run(go())
    assert response.status_code == 200 and "result" in response.json(), (
        f"a handshake-era request without initialize is refused: the kernel no longer honours "
        f"Connection.initialized ({response.text[:200]})"
    )


def test_6_param_header_validator_sees_duplicates_through_items() -> None:
    schema = {
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
    }
    pairs = [("mcp-param-region", "eu"), ("mcp-param-region", "us")]
    folded = dict(pairs)
    rejection = validate_mcp_param_headers(schema, {"region": "eu"}, sdk.HeaderPairs(pairs, folded))
    assert rejection is not None, (
        "validate_mcp_param_headers no longer spots a duplicated Mcp-Param-* header through items(): "
        "sdk.HeaderPairs must present duplicates another way"
    )
    assert validate_mcp_param_headers(schema, {"region": "eu"}, sdk.HeaderPairs([pairs[0]], {"mcp-param-region": "eu"})) is None


def test_7_async_exit_stack_keeps_its_callbacks_in_exit_callbacks() -> None:
    stack = AsyncExitStack()
    assert hasattr(stack, "_exit_callbacks"), "AsyncExitStack._exit_callbacks is gone: sdk.has_exit_callbacks must change"
    assert not sdk.has_exit_callbacks(stack)
    stack.callback(lambda: None)
    assert sdk.has_exit_callbacks(stack)


def test_8_starlette_request_body_comes_from_body_slot() -> None:
    async def receive() -> dict[str, Any]:
        raise AssertionError("Request.body() read the stream although _body was primed")

    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": [], "query_string": b""}
    request = sdk.request_with_body(scope, b'{"x":1}')
    request._receive = receive  # noqa: SLF001 - fail if the stream is touched

    assert asyncio.run(request.body()) == b'{"x":1}', (
        "Starlette's Request.body() no longer returns the primed _body: sdk.request_with_body must change"
    )


def test_9_anyio_asyncio_backend_is_the_module_start_up_preloads() -> None:
    import sys

    import anyio
    from anyio._core._eventloop import get_async_backend

    sdk.load_async_backend()
    assert sdk.ANYIO_ASYNCIO_BACKEND in sys.modules

    async def backend_module() -> str:
        return get_async_backend().__module__

    assert anyio.run(backend_module) == sdk.ANYIO_ASYNCIO_BACKEND, (
        "anyio's asyncio backend moved: sdk.ANYIO_ASYNCIO_BACKEND must name the module its first call imports"
    )


_SERVER_IN_A_FRESH_PROCESS = """
import json, logging, sys
if sys.argv[1] == "runtime-handler":
    logging.getLogger().addHandler(logging.StreamHandler())  # as the Lambda runtime does before the import
before = [type(h).__name__ for h in logging.getLogger().handlers]
from mcp.server.mcpserver import server as module
from app.transport import sdk
original = module.configure_logging
server = sdk.new_mcp_server("seam")
print(json.dumps({
    "rich": "rich" in sys.modules,
    "before": before,
    "after": [type(h).__name__ for h in logging.getLogger().handlers],
    "root_level": logging.getLevelName(logging.getLogger().level),
    "format": getattr(logging.getLogger().handlers[-1].formatter, "_fmt", None),
    "stream": getattr(getattr(logging.getLogger().handlers[-1], "stream", None), "name", None),
    "restored": module.configure_logging is original,
    "name": server.name,
}))
"""


def _new_server_in_fresh_process(mode: str) -> dict[str, Any]:
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _SERVER_IN_A_FRESH_PROCESS, mode], cwd=root, capture_output=True, check=True, timeout=60
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def test_10_mcpserver_logging_set_up_is_a_no_op_when_the_root_logger_has_a_handler() -> None:
    seen = _new_server_in_fresh_process("runtime-handler")
    assert seen["name"] == "seam" and seen["restored"] is True
    assert seen["after"] == seen["before"] == ["StreamHandler"]  # basicConfig would have left it so too
    assert seen["rich"] is False, (
        "MCPServer() imported rich although its logging set-up was replaced: MCPServer.__init__ no longer calls "
        "configure_logging from mcp.server.mcpserver.server, so sdk.new_mcp_server must change"
    )


def test_10_without_a_root_handler_the_sdks_set_up_runs_without_rich() -> None:
    # What the SDK's set-up does where rich is not installed: same level and format, a plain handler on stderr.
    seen = _new_server_in_fresh_process("bare")
    assert seen["before"] == [] and seen["after"] == ["StreamHandler"] and seen["rich"] is False
    assert seen["root_level"] == "INFO" and seen["format"] == "%(message)s" and seen["stream"] == "<stderr>"
    assert seen["restored"] is True


def test_10_the_sdks_set_up_is_still_called_and_still_imports_rich() -> None:
    # The stand-in only matters while the SDK's own set-up would install rich: if this fails, the SDK
    # changed its logging set-up and sdk._plain_logging should follow it (or go).
    import inspect

    from mcp.server.mcpserver import server as module

    assert "configure_logging(" in inspect.getsource(module.MCPServer.__init__)
    assert "RichHandler" in inspect.getsource(module.configure_logging)


def test_no_private_sdk_access_outside_the_seam() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    private = re.compile(r"\._(lowlevel_server|request_handlers|exit_callbacks|body)\b|mcp\.server\._otel")
    offenders = [
        str(path.relative_to(root.parent))
        for path in sorted(root.rglob("*.py"))
        if path.name != "sdk.py" and private.search(path.read_text())
    ]
    assert not offenders, f"private SDK/Starlette attributes reached outside app/transport/sdk.py: {offenders}"

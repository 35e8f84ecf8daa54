"""The one seam to what the MCP SDK and Starlette do not publish.

Everything this project relies on beyond the public, stable surface of its
libraries is reached through this module, and nowhere else. Each access below
is an assumption a new release could break silently; each has a test in
`tests/transport/test_sdk_seam.py` that fails loudly, saying what changed.
`requirements.txt` pins `mcp` to the tested minor for the same reason.

Assumptions (library: what we rely on -> why):

1. mcp: `MCPServer._lowlevel_server` is the protocol-level `Server`
   -> the transport serves the kernel directly (the SDK's own transports read it too).
2. mcp: `Server._request_handlers` is the method -> handler dict, and the SDK
   derives 2026-07-28 capabilities (`listChanged`, `subscribe`) from it
   -> removing `subscriptions/listen` there stops advertising what we cannot serve.
3. mcp: `mcp.server._otel.OpenTelemetryMiddleware` is the per-request span middleware
   -> dropped unless `MCP_OTEL` (no tracer provider on Lambda: pure cost).
4. mcp: `Server.middleware` (documented as provisional) is a mutable list of
   `(ctx, call_next)` callables, first entry outermost
   -> the unknown-tool guard, observability and authorization hook in there.
5. mcp: `Connection.initialized` is an event the kernel waits on before
   serving non-initialize requests -> a stateless handshake-era request is born initialized.
6. mcp: `validate_mcp_param_headers` spots a duplicated `Mcp-Param-*` header by
   iterating the mapping's `items()` -> `HeaderPairs.items()` keeps duplicates.
7. stdlib: `AsyncExitStack._exit_callbacks` is the list of pushed callbacks
   -> a request that pushed none skips the shielded teardown.
8. starlette: `Request._body` is the cache `Request.body()` returns
   -> handlers can read the body the endpoint already consumed.
9. anyio: the asyncio backend lives in `anyio._backends._asyncio`, imported lazily by
   the first anyio call that needs it -> imported at start-up, so the first request
   does not pay for it (~7 ms; the SDK's own app happens to import it at start-up too).
10. mcp: `MCPServer.__init__` calls `configure_logging` looked up in its own module
   (`mcp.server.mcpserver.server`), which imports rich and calls `logging.basicConfig`
   with a `RichHandler` -> `new_mcp_server` puts the SDK's own rich-less branch in its
   place (a plain `StreamHandler` on stderr, `%(message)s`, the same level). Where the root
   logger has a handler (the Lambda runtime adds one before importing the handler) both are
   a no-op, and rich's import (~35-50 ms, ~1.5 MB) bought nothing. Where it has none (a plain
   script, `make invoke`, a soak) the RichHandler rendered every propagated INFO line (the
   access log, Mangum's) as a table, ~3 ms a call, and rich's measuring caches kept the lines'
   text: +1.2 MB of live allocations per 20,000 warm calls (issue 19). Same records, same stream.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from typing import Any

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.types import Scope

Middleware = Callable[..., Any]


def lowlevel_server(server: MCPServer[Any] | Server[Any]) -> Server[Any]:
    """(1) The protocol-level `Server` behind an `MCPServer` (or the `Server` itself)."""
    if isinstance(server, Server):
        return server
    return server._lowlevel_server  # noqa: SLF001


def remove_request_handler(core: Server[Any], method: str) -> None:
    """(2) Stop serving `method`; the SDK has no public removal."""
    core._request_handlers.pop(method, None)  # noqa: SLF001


def drop_otel_middleware(core: Server[Any]) -> None:
    """(3) Remove the SDK's per-request OpenTelemetry span middleware."""
    middleware(core)[:] = [m for m in middleware(core) if not isinstance(m, OpenTelemetryMiddleware)]


def middleware(core: Server[Any]) -> list[Middleware]:
    """(4) The kernel's middleware chain, first entry outermost (provisional SDK API)."""
    chain: list[Middleware] = core.middleware
    return chain


def set_middleware(core: Server[Any], chain: list[Middleware]) -> None:
    """(4) Make `chain` (outermost first) the kernel's whole middleware chain."""
    middleware(core)[:] = chain


def installed(core: Server[Any], kind: type) -> Middleware | None:
    """(4) The chain's entry of type `kind` (one the SDK installed itself, e.g. the requestState boundary), or None."""
    return next((entry for entry in middleware(core) if isinstance(entry, kind)), None)


#: (3) The type of the SDK's span middleware: a chain declaration names its place with it.
OtelMiddleware = OpenTelemetryMiddleware


def otel_middleware(core: Server[Any]) -> Middleware | None:
    """(3) The SDK's per-request OpenTelemetry span middleware, if the server has it."""
    return installed(core, OpenTelemetryMiddleware)


def install_middleware(core: Server[Any], entry: Middleware, *, outermost: bool = False) -> None:
    """(4) Put `entry` in the chain once: replaces an earlier entry of its type, keeps the rest in order."""
    chain = middleware(core)
    kept = [m for m in chain if type(m) is not type(entry)]
    chain[:] = [entry, *kept] if outermost else [*kept, entry]


def mark_initialized(connection: Connection) -> Connection:
    """(5) A connection as if `initialize` had completed on it."""
    connection.initialized.set()
    return connection


class HeaderPairs(Mapping[str, str]):
    """(6) Raw header pairs seen as a mapping whose `items()` keeps duplicates.

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


def has_exit_callbacks(stack: AsyncExitStack) -> bool:
    """(7) Whether anything was pushed onto `stack` (so closing it does work)."""
    return bool(stack._exit_callbacks)  # noqa: SLF001


def request_with_body(scope: Scope, body: bytes) -> Request:
    """(8) A Starlette request whose `await request.body()` returns `body` without reading."""
    request = Request(scope)
    request._body = body  # noqa: SLF001
    return request


#: (9) anyio's asyncio backend module, loaded on first use unless imported beforehand.
ANYIO_ASYNCIO_BACKEND = "anyio._backends._asyncio"


def load_async_backend() -> None:
    """(9) Import anyio's asyncio backend now (start-up), not inside the first request."""
    importlib.import_module(ANYIO_ASYNCIO_BACKEND)


def _plain_logging(level: str = "INFO") -> None:
    """(10) The SDK's `configure_logging` as it is without rich: `basicConfig` with a plain stream handler.

    A no-op when the root logger has a handler already, as the SDK's own.
    """
    logging.basicConfig(level=level, format="%(message)s", handlers=[logging.StreamHandler()])


def new_mcp_server(*args: Any, **kwargs: Any) -> MCPServer[Any]:
    """(10) `MCPServer(*args, **kwargs)`, its logging set-up without rich.

    Assumes `MCPServer.__init__` reads `configure_logging` from its module's globals at call time.
    """
    module = sys.modules[MCPServer.__module__]
    original = module.configure_logging
    module.configure_logging = _plain_logging  # start-up, single-threaded; restored below
    try:
        return MCPServer(*args, **kwargs)
    finally:
        module.configure_logging = original

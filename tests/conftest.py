"""Shared fixtures: the product server, the conformance fixture, the protected local product, and live
servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app import Settings, create_asgi_app
from app.transport.origin import LOOPBACK_HOSTS

LOCAL = Settings(allowed_hosts=tuple(LOOPBACK_HOSTS))
DEV_KEY = "local-product-test-key-0001"


@pytest.fixture
def anyio_backend() -> str:
    """`@pytest.mark.anyio` tests run on asyncio only: the product and the SDK run on asyncio."""
    return "asyncio"


@dataclass
class LiveServer:
    url: str
    port: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[LiveServer]:
    """Run an ASGI app with uvicorn in a background thread on 127.0.0.1; stop it on exit."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}/mcp", port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def product_server() -> Iterator[LiveServer]:
    from app.server import build_server

    with serve(create_asgi_app(build_server(), LOCAL)) as live:
        yield live


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[LiveServer]:
    from tests.fixtures.everything import build

    with serve(create_asgi_app(build(), LOCAL)) as live:
        yield live


def local_environ(data_dir: Path, key: str = DEV_KEY, **extra: str) -> dict[str, str]:
    """What `make run` (app.dev.local) configures: loopback Host names, a development key, a SQLite item file."""
    return {
        "MCP_ALLOWED_HOSTS": ",".join(sorted(LOOPBACK_HOSTS)),
        "MCP_DEV_API_KEY": key,
        "ITEMS_SQLITE_PATH": str(data_dir / "items.sqlite3"),
        **extra,
    }


@contextmanager
def serve_local_product(environ: dict[str, str]) -> Iterator[LiveServer]:
    """The protected product (`make run`'s app, built from `environ`) on 127.0.0.1; stopped on exit."""
    from app.main import build_product

    with serve(build_product(environ).asgi_app()) as live:
        yield live


@pytest.fixture(scope="module")
def local_product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The protected product as `make run` serves it: DEV_KEY, a fresh SQLite file per test module, loopback."""
    with serve_local_product(local_environ(tmp_path_factory.mktemp("items"))) as live:
        yield live

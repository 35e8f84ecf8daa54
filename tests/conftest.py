"""Shared fixtures: the product server, the conformance fixture, and live servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from app import Settings, create_asgi_app
from app.transport.origin import LOOPBACK_HOSTS

LOCAL = Settings(allowed_hosts=tuple(LOOPBACK_HOSTS))


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

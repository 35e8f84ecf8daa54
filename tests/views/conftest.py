"""The protected product (`make run`'s app) on 127.0.0.1 with a development key and a temp SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client import advertise
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from tests.conftest import LiveServer, serve

KEY = "board-view-test-key-0001"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from app.main import build_product

    items = Path(tmp_path_factory.mktemp("items")) / "items.sqlite3"
    environ = {"MCP_DEV_API_KEY": KEY, "ITEMS_SQLITE_PATH": str(items), "MCP_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    with serve(build_product(environ).asgi_app()) as live:
        yield live


def client(url: str, mode: str, *, apps: bool) -> Client:
    """The MCP Python SDK client with the key; `apps` declares the MCP Apps extension as a host does."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    extensions = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})] if apps else None
    return Client(streamable_http_client(url, http_client=http), mode=mode, extensions=extensions)

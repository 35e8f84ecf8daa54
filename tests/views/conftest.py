"""The board's tests run against the shared `local_product` fixture (tests/conftest.py): the protected
product on 127.0.0.1 with a development key and a temp SQLite file. `client` speaks to it as a host does."""

from __future__ import annotations

import httpx2
from mcp import Client
from mcp.client import advertise
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from tests.conftest import DEV_KEY


def client(url: str, mode: str, *, apps: bool) -> Client:
    """The MCP Python SDK client with the key; `apps` declares the MCP Apps extension as a host does."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {DEV_KEY}"}, timeout=30)
    extensions = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})] if apps else None
    return Client(streamable_http_client(url, http_client=http), mode=mode, extensions=extensions)

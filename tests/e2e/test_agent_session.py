"""The README's agent session, for real: the protected local app (`make run`'s) over loopback,
the MCP Python SDK client with an API key, adding and finding items in both eras."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import DEV_KEY, LiveServer

pytestmark = pytest.mark.anyio


def _client(url: str, key: str, mode: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode=mode)


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_agent_adds_finds_updates_items(local_product: LiveServer, mode: str) -> None:
    async with _client(local_product.url, DEV_KEY, mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {"items_add", "items_get", "items_search", "items_list", "items_update", "items_delete"} <= set(tools)
        assert tools["items_get"].annotations.read_only_hint is True
        assert tools["items_delete"].annotations.destructive_hint is True
        key = f"roadmap-{mode}"
        added = (await client.call_tool("items_add", {"title": f"Q3 roadmap {mode}", "body": "ship search", "tags": ["work"], "idempotency_key": key})).structured_content
        again = (await client.call_tool("items_add", {"title": f"Q3 roadmap {mode}", "body": "ship search", "tags": ["work"], "idempotency_key": key})).structured_content
        assert added["created"] is True and again["created"] is False
        item_id = added["item"]["id"]
        assert again["item"]["id"] == item_id
        found = (await client.call_tool("items_search", {"text": f"ROADMAP {mode.upper()}", "tags": ["work"]})).structured_content
        assert [i["id"] for i in found["items"]] == [item_id]
        updated = await client.call_tool("items_update", {"id": item_id, "expected_version": 1, "body": "ship search + export"})
        assert updated.structured_content["version"] == 2
        stale = await client.call_tool("items_update", {"id": item_id, "expected_version": 1, "body": "lost?"})
        assert stale.is_error is True and "version 2" in stale.content[0].text


async def test_wrong_key_is_refused(local_product: LiveServer) -> None:
    with pytest.raises(Exception) as raised:
        async with _client(local_product.url, "not-the-key-not-the-key", "legacy") as client:
            await client.list_tools()
    assert "401" in repr(raised.value) or isinstance(raised.value, (MCPError, ExceptionGroup, httpx2.HTTPStatusError))

"""The item board over the wire: the protected local app on 127.0.0.1, the MCP Python SDK
client with the key, in both protocol eras, with and without the MCP Apps extension."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID, Apps, client_supports_apps
from mcp.server.mcpserver import Context, MCPServer

from app import create_asgi_app
from app.views import BOARD_URI, board_html
from tests.conftest import LOCAL, LiveServer, serve
from tests.views.conftest import client

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
BOARD_TOOLS = {"items_list", "items_search", "items_get"}


async def test_server_discover_advertises_the_apps_extension(local_product: LiveServer) -> None:
    async with client(local_product.url, "auto", apps=True) as session:
        assert session.protocol_version == "2026-07-28"
        assert (session.server_capabilities.extensions or {}).get(EXTENSION_ID) == {}  # no settings


async def test_handshake_era_host_declares_apps_in_initialize_and_is_served(local_product: LiveServer) -> None:
    """The host declares the extension in `initialize`; the server's answer has no `extensions`
    field, because ServerCapabilities gained it only at 2026-07-28 and the SDK writes each
    revision's own schema. A handshake-era host renders the board from the tools' `_meta`."""
    async with client(local_product.url, "legacy", apps=True) as session:
        assert session.protocol_version == "2025-11-25"
        assert session.server_capabilities.extensions is None
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert tools["items_list"].meta == {"ui": {"resourceUri": BOARD_URI}}
        assert (await session.read_resource(BOARD_URI)).contents[0].mime_type == APP_MIME_TYPE


@ERAS
async def test_resources_list_shows_the_board_as_an_mcp_app(local_product: LiveServer, mode: str) -> None:
    async with client(local_product.url, mode, apps=True) as session:
        listed = {r.uri: r for r in (await session.list_resources()).resources}
    board = listed[BOARD_URI]
    assert board.mime_type == APP_MIME_TYPE == "text/html;profile=mcp-app"
    assert board.title == "Item board"


@ERAS
async def test_listing_and_reading_tools_carry_the_board_uri(local_product: LiveServer, mode: str) -> None:
    async with client(local_product.url, mode, apps=True) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    carrying = {name for name, tool in tools.items() if (tool.meta or {}).get("ui", {}).get("resourceUri") == BOARD_URI}
    assert carrying == BOARD_TOOLS
    # Nothing else leaks into _meta: no visibility restriction, the model still sees every tool.
    assert all(tools[name].meta == {"ui": {"resourceUri": BOARD_URI}} for name in BOARD_TOOLS)
    assert tools["items_update"].meta is None


@ERAS
async def test_board_read_declares_an_empty_csp_and_no_permissions(local_product: LiveServer, mode: str) -> None:
    async with client(local_product.url, mode, apps=True) as session:
        read = await session.read_resource(BOARD_URI)
    [content] = read.contents
    assert content.mime_type == APP_MIME_TYPE
    assert content.text == board_html()
    ui = content.meta["ui"]
    assert ui["csp"] == {"connectDomains": [], "resourceDomains": []}
    assert ui["permissions"] == {}  # none requested, and said so
    assert ui["prefersBorder"] is True


async def test_board_read_carries_the_same_cache_hints_as_other_reads(local_product: LiveServer) -> None:
    async with client(local_product.url, "auto", apps=True) as session:
        board = await session.read_resource(BOARD_URI)
        usage = await session.read_resource("items://me/usage")
    hints = {"ttlMs", "cacheScope"}
    board_hints = {k: v for k, v in board.model_dump(by_alias=True).items() if k in hints}
    assert board_hints.keys() == hints
    assert board_hints == {k: v for k, v in usage.model_dump(by_alias=True).items() if k in hints}


def _comparable(result: Any) -> dict[str, Any]:
    data = result.model_dump(by_alias=True, exclude_none=True)
    data.pop("_meta", None)  # serverInfo stamp at 2026-07-28
    return data


@ERAS
async def test_a_client_without_apps_gets_the_same_meaningful_result(local_product: LiveServer, mode: str) -> None:
    async with client(local_product.url, mode, apps=True) as host, client(local_product.url, mode, apps=False) as plain:
        added = await plain.call_tool("items_add", {"title": f"Board text {mode}", "body": "seen as text", "tags": ["plain"]})
        item_id = added.structured_content["item"]["id"]
        for name, args in [("items_list", {}), ("items_search", {"tags": ["plain"]}), ("items_get", {"id": item_id})]:
            with_apps = await host.call_tool(name, args)
            without = await plain.call_tool(name, args)
            assert _comparable(with_apps) == _comparable(without), name
            # The text alone tells a model what it needs: the item's title and id, no markup.
            assert f"Board text {mode}" in without.content[0].text and item_id in without.content[0].text
            assert "<" not in without.content[0].text


@ERAS
async def test_an_edit_through_the_host_path_conflicts_with_a_stale_version(local_product: LiveServer, mode: str) -> None:
    """What the board does on Save: items_update with the version it read; a stale one gets the tool's message."""
    async with client(local_product.url, mode, apps=True) as host:
        item = (await host.call_tool("items_add", {"title": f"Conflict {mode}"})).structured_content["item"]
        first = await host.call_tool("items_update", {"id": item["id"], "expected_version": 1, "body": "mine"})
        stale = await host.call_tool("items_update", {"id": item["id"], "expected_version": 1, "body": "theirs"})
    assert first.is_error is False and first.structured_content["version"] == 2
    assert stale.is_error is True
    assert "version 2, not version 1" in stale.content[0].text


@pytest.fixture(scope="module")
def probe_server() -> Any:
    """A server with one Apps tool that reports whether the request's client negotiated Apps."""
    apps = Apps()

    @apps.tool(resource_uri="ui://probe/page")
    def probe(ctx: Context) -> str:
        return "apps" if client_supports_apps(ctx) else "text"

    apps.add_html_resource("ui://probe/page", "<p>probe</p>")
    with serve(create_asgi_app(MCPServer("probe", extensions=[apps]), LOCAL)) as live:
        yield live


@pytest.mark.parametrize(
    ("mode", "declared", "seen"),
    [("auto", True, "apps"), ("auto", False, "text"), ("legacy", True, "text"), ("legacy", False, "text")],
    ids=["2026-07-28-declared", "2026-07-28-not-declared", "handshake-declared", "handshake-not-declared"],
)
async def test_a_tool_can_only_see_apps_support_in_the_2026_envelope(
    probe_server: LiveServer, mode: str, declared: bool, seen: str
) -> None:
    """Why the item tools answer everyone alike: served statelessly, a handshake-era tools/call
    carries no capabilities (they went to `initialize`, which no later request can rely on), so
    `client_supports_apps` is False there even for a host that renders Apps. At 2026-07-28 each
    request's envelope carries them."""
    extensions = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})] if declared else None
    async with Client(probe_server.url, mode=mode, extensions=extensions) as session:
        result = await session.call_tool("probe", {})
    assert result.content[0].text == seen

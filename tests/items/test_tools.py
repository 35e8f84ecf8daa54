"""The item tools, resources, prompt and completions through an MCP client.

Each test talks to an in-process MCPServer with the SDK's `Client`; a server
middleware binds the caller's principal, as the auth layer does in the app.
Runs over both backends (the `service` fixture).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, PromptReference, ResourceTemplateReference

from app.items import model
from app.items.service import ItemService
from app.items.tools import register_item_tools
from app.core.principal import Principal, bound_principal

from .conftest import ALICE, BOB

pytestmark = pytest.mark.anyio

TOOLS = {
    # name: (readOnlyHint, destructiveHint, idempotentHint)
    "items_add": (False, False, False),
    "items_get": (True, False, True),
    "items_search": (True, False, True),
    "items_list": (True, False, True),
    "items_update": (False, True, True),
    "items_delete": (False, True, True),
}


def build_server(provider: Callable[[], ItemService], principal: Principal) -> MCPServer[Any]:
    """What the app does, with a stand-in for the auth layer."""

    async def bind_principal(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        with bound_principal(principal):
            return await call_next(ctx)

    server: MCPServer[Any] = MCPServer("items-test", middleware=[bind_principal])
    complete_items = register_item_tools(server, provider)

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> Any:
        return await complete_items(ref, argument, context)

    return server


@asynccontextmanager
async def connect(service: ItemService, principal: Principal = ALICE, mode: str = "auto") -> AsyncIterator[Client]:
    # cache=None: these tests read what they just wrote.
    async with Client(build_server(lambda: service, principal), mode=mode, cache=None) as client:
        yield client


def text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if block.type == "text")


async def call_ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


async def test_the_catalog_lists_every_item_tool_with_schemas_and_hints(service: ItemService) -> None:
    async with connect(service) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(TOOLS) <= set(tools)
    for name, (read_only, destructive, idempotent) in TOOLS.items():
        tool = tools[name]
        assert tool.description and len(tool.description) > 40
        assert "\n " not in tool.description, "docstring indentation is not sent to agents"
        assert tool.title
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        hints = tool.annotations
        assert hints is not None and hints.title
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (
            read_only,
            destructive,
            idempotent,
        )
        assert hints.open_world_hint is False


async def test_parameters_carry_their_constraints(service: ItemService) -> None:
    async with connect(service) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    add = tools["items_add"].input_schema["properties"]
    assert add["title"]["maxLength"] == model.TITLE_MAX_CHARS and add["title"]["minLength"] == 1
    assert add["body"]["maxLength"] == model.BODY_MAX_BYTES
    tags = next(branch for branch in add["tags"]["anyOf"] if branch.get("type") == "array")
    assert tags["maxItems"] == model.TAGS_MAX
    assert tags["items"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": model.TAG_MAX_CHARS,
        "pattern": model.TAG_PATTERN,
    }
    assert tools["items_add"].input_schema["required"] == ["title"]
    listing = tools["items_list"].input_schema["properties"]
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, model.PAGE_LIMIT_MAX)
    assert listing["order"]["enum"] == ["newest", "oldest"]
    assert set(tools["items_update"].input_schema["required"]) == {"id", "expected_version"}
    assert tools["items_get"].input_schema["properties"]["id"]["pattern"] == model.ITEM_ID_PATTERN


async def test_results_are_structured_and_match_the_output_schema(service: ItemService) -> None:
    async with connect(service) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        added = await call_ok(client, "items_add", {"title": "Note", "body": "hello", "tags": ["b", "a"]})
        item_id = added["item"]["id"]
        results = {
            "items_add": added,
            "items_get": await call_ok(client, "items_get", {"id": item_id}),
            "items_list": await call_ok(client, "items_list", {}),
            "items_search": await call_ok(client, "items_search", {"text": "HELLO"}),
            "items_update": await call_ok(
                client, "items_update", {"id": item_id, "expected_version": 1, "title": "N2"}
            ),
            "items_delete": await call_ok(client, "items_delete", {"id": item_id, "expected_version": 2}),
        }
    for name, structured in results.items():
        jsonschema.validate(structured, tools[name].output_schema)
    assert added["created"] is True
    assert added["item"]["tags"] == ["a", "b"] and added["item"]["uri"] == f"items://{item_id}"
    assert [i["id"] for i in results["items_search"]["items"]] == [item_id]
    assert results["items_update"]["version"] == 2
    assert results["items_delete"] == {"id": item_id, "deleted": True}


async def test_a_retried_add_returns_the_first_item(service: ItemService) -> None:
    args = {"title": "once", "idempotency_key": "7b1c7d4e-retry"}
    async with connect(service) as client:
        first = await call_ok(client, "items_add", args)
        second = await call_ok(client, "items_add", args)
        clash = await client.call_tool("items_add", {**args, "title": "something else"})
        listing = await call_ok(client, "items_list", {})
    assert second["item"]["id"] == first["item"]["id"] and second["created"] is False
    assert clash.is_error and "different" in text(clash)
    assert len(listing["items"]) == 1


async def test_parallel_retries_through_mcp_create_one_item(service: ItemService) -> None:
    outcomes: list[dict[str, Any]] = []
    async with connect(service) as client:

        async def add() -> None:
            outcomes.append(await call_ok(client, "items_add", {"title": "same", "idempotency_key": "burst"}))

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(add)
        listing = await call_ok(client, "items_list", {})
    assert len({o["item"]["id"] for o in outcomes}) == 1
    assert sum(o["created"] for o in outcomes) == 1
    assert len(listing["items"]) == 1


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("items_get", {"id": "unknownid"}, "not found"),
        ("items_list", {"cursor": "c1.e30.AAAA"}, "cursor is not valid"),
        ("items_search", {}, "give text or at least one tag"),
        ("items_update", {"id": "unknownid", "expected_version": 1, "title": "x"}, "not found"),
        ("items_update", {"id": "unknownid", "expected_version": 1}, "nothing to update"),
        ("items_delete", {"id": "unknownid"}, "not found"),
        ("items_add", {"title": "   "}, "blank"),
        ("items_add", {"title": "ok", "body": "é" * (model.BODY_MAX_BYTES // 2 + 1)}, "bytes of UTF-8"),
    ],
    ids=[
        "get-unknown",
        "forged-cursor",
        "search-nothing",
        "update-unknown",
        "update-empty",
        "delete-unknown",
        "blank-title",
        "body-bytes",
    ],
)
async def test_domain_refusals_are_is_error_results_with_the_reason(
    service: ItemService, tool: str, args: dict[str, Any], expected: str
) -> None:
    async with connect(service) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error
    assert expected in text(result)
    assert result.structured_content is None


@pytest.mark.parametrize(
    ("tool", "args", "field"),
    [
        ("items_add", {"title": 42}, "title"),
        ("items_add", {"title": "x" * (model.TITLE_MAX_CHARS + 1)}, "title"),
        ("items_add", {"title": "ok", "tags": "not-a-list"}, "tags"),
        ("items_add", {"title": "ok", "tags": ["UPPER"]}, "tags.0"),
        ("items_add", {"title": "lone \ud800"}, "title"),
        ("items_list", {"limit": 0}, "limit"),
        ("items_list", {"limit": 101}, "limit"),
        ("items_list", {"order": "sideways"}, "order"),
        ("items_update", {"id": "x", "expected_version": "one", "title": "t"}, "expected_version"),
        ("items_get", {}, "id"),
    ],
    ids=[
        "int-title",
        "long-title",
        "tags-string",
        "tag-pattern",
        "lone-surrogate",
        "limit-0",
        "limit-101",
        "bad-enum",
        "version-type",
        "missing-id",
    ],
)
async def test_schema_violations_are_is_error_results_naming_the_field(
    service: ItemService, tool: str, args: dict[str, Any], field: str
) -> None:
    """MCPServer 2.3 validates arguments inside tools/call and answers an
    `isError` result (not a JSON-RPC -32602) naming the field; nothing runs."""
    async with connect(service) as client:
        result = await client.call_tool(tool, args)
        listing = await call_ok(client, "items_list", {})
    assert result.is_error
    assert f"\n{field}" in text(result)
    assert listing["items"] == []


async def test_unknown_tool_is_an_is_error_result(service: ItemService) -> None:
    async with connect(service) as client:
        result = await client.call_tool("items_explode", {})
    assert result.is_error and "Unknown tool" in text(result)


async def test_a_stale_update_tells_the_agent_how_to_recover(service: ItemService) -> None:
    async with connect(service) as client:
        item = (await call_ok(client, "items_add", {"title": "t"}))["item"]
        await call_ok(client, "items_update", {"id": item["id"], "expected_version": 1, "body": "first"})
        stale = await client.call_tool("items_update", {"id": item["id"], "expected_version": 1, "body": "second"})
        current = await call_ok(client, "items_get", {"id": item["id"]})
    assert stale.is_error and "items_get" in text(stale) and "expected_version" in text(stale)
    assert (current["version"], current["body"]) == (2, "first")


async def test_crashes_do_not_leak_internals(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> ItemService:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    async with Client(build_server(broken, ALICE), cache=None) as client:
        with caplog.at_level(logging.ERROR, logger="app.items.edge"):
            result = await client.call_tool("items_get", {"id": "abc"})
    assert result.is_error
    assert "internal error (incident " in text(result)
    assert "hunter2" not in text(result) and "RuntimeError" not in text(result)
    crash = next(r for r in caplog.records if r.name == "app.items.edge")
    assert crash.exc_info is not None
    assert crash.__dict__["incident"] in text(result)


async def test_no_principal_means_no_access(service: ItemService) -> None:
    server: MCPServer[Any] = MCPServer("no-auth")
    register_item_tools(server, lambda: service)
    async with Client(server, cache=None) as client:
        result = await client.call_tool("items_list", {})
    assert result.is_error and "no authenticated caller" in text(result)


async def test_principals_are_isolated_through_mcp(service: ItemService) -> None:
    async with connect(service, ALICE) as alice:
        secret = (await call_ok(alice, "items_add", {"title": "alice only", "tags": ["secret"]}))["item"]
    unknown_id = "0" * 12 + "doesnotexist"
    async with connect(service, BOB) as bob:
        foreign = await bob.call_tool("items_get", {"id": secret["id"]})
        unknown = await bob.call_tool("items_get", {"id": unknown_id})
        listing = await call_ok(bob, "items_list", {})
        search = await call_ok(bob, "items_search", {"tags": ["secret"]})
        usage = json.loads((await bob.read_resource("items://me/usage")).contents[0].text)  # type: ignore[union-attr]
        with pytest.raises(MCPError) as foreign_read:
            await bob.read_resource(f"items://{secret['id']}")
        with pytest.raises(MCPError) as unknown_read:
            await bob.read_resource(f"items://{unknown_id}")
        delete = await bob.call_tool("items_delete", {"id": secret["id"]})
    assert foreign.is_error and unknown.is_error
    assert text(foreign).replace(secret["id"], "<id>") == text(unknown).replace(unknown_id, "<id>")
    assert listing["items"] == [] and search["items"] == []
    assert usage["items"] == 0 and usage["principal"]["id"] == "bob"
    assert foreign_read.value.error.code == unknown_read.value.error.code == -32602
    assert delete.is_error
    async with connect(service, ALICE) as alice:
        assert (await call_ok(alice, "items_get", {"id": secret["id"]}))["title"] == "alice only"


async def test_item_resource_and_usage(service: ItemService) -> None:
    async with connect(service) as client:
        item = (await call_ok(client, "items_add", {"title": "as resource", "body": "b"}))["item"]
        templates = (await client.list_resource_templates()).resource_templates
        resources = (await client.list_resources()).resources
        read = (await client.read_resource(item["uri"])).contents[0]
        usage = json.loads((await client.read_resource("items://me/usage")).contents[0].text)  # type: ignore[union-attr]
    assert [t.uri_template for t in templates] == ["items://{id}"]
    assert "items://me/usage" in [str(r.uri) for r in resources]
    assert read.mime_type == "application/json"
    assert json.loads(read.text) == item  # type: ignore[union-attr]
    assert usage["items"] == 1
    assert usage["principal"] == {"id": "alice", "name": "Alice", "kind": "api_key"}
    assert usage["limits"]["title_max_chars"] == model.TITLE_MAX_CHARS


async def test_summarize_prompt_quotes_the_matching_items(service: ItemService) -> None:
    async with connect(service) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        hit = (await call_ok(client, "items_add", {"title": "Roadmap", "body": "ship it", "tags": ["work"]}))["item"]
        await call_ok(client, "items_add", {"title": "Groceries", "body": "milk", "tags": ["home"]})
        prompt = await client.get_prompt("summarize_items", {"query": "roadmap", "tag": "work"})
        empty = await client.get_prompt("summarize_items", {"query": "nothing like this"})
        with pytest.raises(MCPError) as bad:
            await client.get_prompt("summarize_items", {"query": ""})
    assert {a.name: a.required for a in prompts["summarize_items"].arguments or []} == {"query": True, "tag": False}
    body = prompt.messages[0].content.text  # type: ignore[union-attr]
    assert hit["id"] in body and "ship it" in body and "Groceries" not in body
    assert "no items" in empty.messages[0].content.text  # type: ignore[union-attr]
    assert bad.value.error.code == -32602 and "blank" in bad.value.error.message


async def test_completions_offer_the_callers_ids_and_tags(service: ItemService) -> None:
    async with connect(service, BOB) as bob:
        await call_ok(bob, "items_add", {"title": "bob", "tags": ["alpine"]})
    async with connect(service, ALICE) as client:
        item = (await call_ok(client, "items_add", {"title": "t", "tags": ["alpha", "beta"]}))["item"]
        ids = await client.complete(
            ResourceTemplateReference(uri="items://{id}"), {"name": "id", "value": item["id"][:6]}
        )
        tags = await client.complete(PromptReference(name="summarize_items"), {"name": "tag", "value": "al"})
        other = await client.complete(PromptReference(name="someone_elses_prompt"), {"name": "tag", "value": ""})
    assert ids.completion.values == [item["id"]]
    assert tags.completion.values == ["alpha"]
    assert other.completion.values == []


async def test_handshake_era_clients_get_the_same_tools(service: ItemService) -> None:
    async with connect(service, mode="legacy") as client:
        assert client.protocol_version < "2026"
        names = {tool.name for tool in (await client.list_tools()).tools}
        added = await call_ok(client, "items_add", {"title": "legacy"})
    assert set(TOOLS) <= names
    assert added["created"] is True

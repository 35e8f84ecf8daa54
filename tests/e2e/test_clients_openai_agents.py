"""The OpenAI Agents SDK's MCP client against the live local product (issue 8, "Done when").

No LLM: `agents.mcp.MCPServerStreamableHttp` is the piece an agent uses to
reach MCP servers; it connects, lists the tools and calls them exactly as an
agent run would. On `/mcp` and on `/mcp/` (which once answered a 307 the
Agents SDK could not follow).
"""

from __future__ import annotations

import json

import pytest
from agents.mcp import MCPServerStreamableHttp

from tests.conftest import DEV_KEY, LiveServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("suffix", ["", "/"], ids=["/mcp", "/mcp/"])
async def test_openai_agents_client_lists_and_calls_tools(local_product: LiveServer, suffix: str) -> None:
    params = {"url": local_product.url + suffix, "headers": {"Authorization": f"Bearer {DEV_KEY}"}, "timeout": 30}
    async with MCPServerStreamableHttp(params=params, name="mcp-lambda", cache_tools_list=False) as server:
        tools = {tool.name for tool in await server.list_tools()}
        assert {"echo", "add", "items_add", "items_get"} <= tools
        echoed = await server.call_tool("echo", {"text": "from an agent"})
        assert echoed.is_error is False and echoed.content[0].text == "from an agent"
        added = await server.call_tool("items_add", {"title": f"agent note {suffix or 'bare'}", "body": "kept"})
        assert added.is_error is False, added.content
        item = json.loads(added.content[0].text)["item"]
        got = await server.call_tool("items_get", {"id": item["id"]})
        assert got.is_error is False and json.loads(got.content[0].text)["body"] == "kept"


async def test_openai_agents_client_with_a_wrong_key_fails_clearly(local_product: LiveServer) -> None:
    """A wrong key ends in an error at connect, not a wait."""
    params = {"url": local_product.url, "headers": {"Authorization": "Bearer wrong"}, "timeout": 10}
    server = MCPServerStreamableHttp(params=params, name="mcp-lambda", max_retry_attempts=0)
    with pytest.raises(BaseException) as raised:  # the SDK wraps the 403 in task-group exception groups
        await server.connect()
    await server.cleanup()
    # What the OpenAI Agents SDK shows its user: the server's own words.
    assert "this API key was not accepted" in " ".join(str(e) for e in _leaves(raised.value))


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]

"""The MCP Python SDK client over loopback HTTP, in both protocol eras."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_python_client_lists_and_calls_tools(product_server: LiveServer, mode: str) -> None:
    async with Client(product_server.url, mode=mode) as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} >= {"add", "echo"}
        result = await client.call_tool("add", {"a": 40, "b": 2})
        assert result.is_error is False
        assert result.structured_content == {"result": 42}
        echoed = await client.call_tool("echo", {"text": "héllo"})
        assert echoed.content[0].text == "héllo"


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_python_client_gets_progress_and_logs(fixture_server: LiveServer, mode: str) -> None:
    progress: list[float] = []
    logs: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async def on_log(params: object) -> None:
        logs.append(str(getattr(params, "data", "")))

    async with Client(fixture_server.url, mode=mode, logging_callback=on_log, log_level="debug") as client:
        await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        await client.call_tool("test_tool_with_logging", {})
    assert progress == [0, 50, 100]
    assert logs == ["Tool execution started", "Tool processing data", "Tool execution completed"]


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_python_client_sees_unknown_tool_as_invalid_params(product_server: LiveServer, mode: str) -> None:
    from mcp.shared.exceptions import MCPError

    async with Client(product_server.url, mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("no_such_tool", {})
        # Bad arguments are a tool execution error the model can correct (spec 2025-11-25).
        bad = await client.call_tool("add", {"a": "not a number", "b": 1})
    assert raised.value.error.code == -32602
    assert bad.is_error is True
    assert "a" in bad.content[0].text


async def test_many_concurrent_clients_each_stand_alone(product_server: LiveServer) -> None:
    """No session: twenty interleaved clients in both eras all get their own answers."""
    results: dict[int, object] = {}

    async def one(i: int) -> None:
        async with Client(product_server.url, mode="legacy" if i % 2 else "auto") as client:
            result = await client.call_tool("add", {"a": i, "b": 1000})
            results[i] = result.structured_content

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, i)
    assert results == {i: {"result": i + 1000} for i in range(20)}

"""app.transport.exchange: one request through the SDK kernel, its notification sink and its deadline."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import NoBackChannelError

from app.transport.sdk import lowlevel_server
from app.transport.exchange import RequestChannel, handshake_connection, new_channel, run_request

CALL = "tools/call"


def _server() -> Any:
    server: MCPServer[Any] = MCPServer("t")

    @server.tool(description="Reports progress twice.")
    async def steps(ctx: Context) -> str:
        await ctx.report_progress(1, 2)
        await ctx.report_progress(2, 2)
        return "done"

    @server.tool(description="Sleeps.")
    async def nap(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "rested"

    return lowlevel_server(server)


def test_channel_collects_progress_only_with_a_token() -> None:
    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with_token = new_channel(1, {"_meta": {"progressToken": "t"}}, {}, None)
        without = new_channel(2, {}, {}, None)
        for channel in (with_token, without):
            await channel.progress(0.5, 1.0, "half")
        return with_token.emitted, without.emitted

    with_token, without = asyncio.run(go())
    assert with_token == [{"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t", "progress": 0.5, "total": 1.0, "message": "half"}}]
    assert without == []


def test_channel_refuses_server_to_client_requests() -> None:
    channel = new_channel(1, None, {}, None)
    with pytest.raises(NoBackChannelError):
        asyncio.run(channel.send_raw_request("sampling/createMessage", {}))


def test_handshake_connection_is_born_initialized() -> None:
    connection = handshake_connection(RequestChannel(transport=None, request_id=1, message_metadata=None), "2025-06-18")  # type: ignore[arg-type]
    assert connection.initialized.is_set() and connection.protocol_version == "2025-06-18"


def test_run_request_returns_result_and_notifications() -> None:
    server = _server()

    async def go() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        params = {"name": "steps", "arguments": {}, "_meta": {"progressToken": 9}}
        channel = new_channel(4, params, {}, None)
        response = await run_request(server, channel, CALL, params, handshake_connection(channel, "2025-11-25"), {}, 5.0)
        return response, channel.emitted

    response, emitted = asyncio.run(go())
    assert response["id"] == 4 and response["result"]["content"][0]["text"] == "done"
    assert [n["params"]["progress"] for n in emitted] == [1, 2]


def test_run_request_times_out_with_a_json_rpc_error() -> None:
    server = _server()

    async def go() -> dict[str, Any]:
        params = {"name": "nap", "arguments": {"seconds": 5}}
        channel = new_channel(5, params, {}, None)
        return await run_request(server, channel, CALL, params, handshake_connection(channel, "2025-11-25"), {}, 0.05)

    response = asyncio.run(go())
    assert response["id"] == 5
    assert response["error"]["code"] == -32001


def test_run_request_maps_kernel_errors() -> None:
    server = _server()

    async def go() -> dict[str, Any]:
        channel = new_channel(6, None, {}, None)
        return await run_request(server, channel, "no/such", None, handshake_connection(channel, "2025-11-25"), {}, 5.0)

    assert asyncio.run(go())["error"]["code"] == -32601

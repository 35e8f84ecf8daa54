"""The two benchmark tools on an `MCPServer`, shared by the handlers that serve them through the SDK's server.

Imports only the SDK, so a cold start of the SDK app pays nothing of this project.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer


def build_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("bench")

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def echo(text: str) -> str:
        return text

    return server

"""This project: an `MCPServer` with the two benchmark tools, through `create_lambda_handler`."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from app import Settings, create_lambda_handler


def build_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("bench")

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def echo(text: str) -> str:
        return text

    return server


def build_handler(settings: Settings | None = None):
    # Explicit defaults: the bench must not depend on the caller's MCP_* environment.
    return create_lambda_handler(build_server(), settings or Settings())


handler = build_handler()

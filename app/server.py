"""The product's server definition: built once per process, shared by every request."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from app import tools

SERVER_NAME = "mcp-lambda"
INSTRUCTIONS = "A stateless MCP server on AWS Lambda. Every request stands alone; no session is kept."


def build_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, version="0.1.0")
    tools.register(server)
    return server

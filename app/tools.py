"""Your tools go here.

Each tool is a typed async function registered on the server. The SDK derives
the input schema (and output schema) from the annotations, validates
arguments, and turns a raised exception into an `isError` result.
Keep tools thin: parse, call domain logic, return.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from app.scopes import ScopeCatalog


def register(server: MCPServer[Any], catalog: ScopeCatalog) -> None:
    """Register this module's tools on `server`, their scopes in `catalog`. Called once, at start-up."""

    # scopes=(): needs no scope beyond MCP_REQUIRED_SCOPES
    @catalog.tool(server, scopes=(), description="Add two integers and return their sum.")
    async def add(
        a: Annotated[int, Field(description="First addend")],
        b: Annotated[int, Field(description="Second addend")],
    ) -> int:
        return a + b

    @catalog.tool(server, scopes=(), description="Return the given text unchanged. Useful to check connectivity.")
    async def echo(text: Annotated[str, Field(description="Text to echo back", max_length=10_000)]) -> str:
        return text

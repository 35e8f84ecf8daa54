"""The `summarize_items` prompt: a ready-made request to summarize matching items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from app.scopes import ScopeCatalog
from app.items import model
from app.items.edge import prompt_errors
from app.items.service import ItemService
from app.core.principal import current_principal

SUMMARIZE_PROMPT = "summarize_items"
#: Items quoted into one prompt, and how much of each body: keeps the prompt
#: a reasonable size whatever the store holds.
PROMPT_MAX_ITEMS = 20
PROMPT_BODY_CHARS = 2000

# No length constraints here on purpose: the SDK validates prompt arguments
# before any wrapper runs and answers a violation with a bare -32603. The
# domain checks the same limits and `prompt_errors` answers -32602 with a reason.
Query = Annotated[
    str,
    Field(
        description="Text to look for in titles and bodies (case-insensitive), "
        f"1-{model.SEARCH_TEXT_MAX_CHARS} characters.",
    ),
]
PromptTag = Annotated[str | None, Field(description="Only items with this tag (optional).")]


def register_item_prompts(server: MCPServer[Any], service: Callable[[], ItemService], catalog: ScopeCatalog) -> None:
    @catalog.prompt(  # getting it, and completing its tag
        server,
        scopes=(model.READ_SCOPE,),
        name=SUMMARIZE_PROMPT,
        title="Summarize matching items",
        description="Draft a request to summarize your items that match a query (and optionally a tag).",
    )
    @prompt_errors
    def summarize_items(query: Query, tag: PromptTag = None) -> str:
        page = service().search(current_principal(), text=query, tags=[tag] if tag else None, limit=PROMPT_MAX_ITEMS)
        scope = f"matching {query!r}" + (f" tagged {tag!r}" if tag else "")
        if not page.items:
            return f"I have no items {scope}. Tell me so, and suggest a broader search."
        parts = [
            f"Summarize my {_count(len(page.items))} {scope}. Group related points, note "
            "disagreements between items, and cite item ids in brackets.",
        ]
        for item in page.items:
            body = item.body if len(item.body) <= PROMPT_BODY_CHARS else item.body[:PROMPT_BODY_CHARS] + " […]"
            tags = ", ".join(item.tags) or "none"
            parts.append(f"---\n[{item.id}] {item.title}\ntags: {tags}\n\n{body}")
        if page.next_cursor:
            parts.append("---\n(More items match; these are the newest.)")
        return "\n\n".join(parts)


def _count(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"

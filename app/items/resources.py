"""The `items://` resources: one item as JSON, and the caller's usage.

Sync for the same reason as the tools (see `tools.py`): the SDK reads a sync
resource in a worker thread with the request's context copied in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer

from app.scopes import ScopeCatalog
from app.items import model
from app.items.edge import resource_errors
from app.items.schemas import ItemOut
from app.items.service import ItemService
from app.core.principal import current_principal

ITEM_TEMPLATE = "items://{id}"
USAGE_URI = "items://me/usage"


def register_item_resources(
    server: MCPServer[Any], service: Callable[[], ItemService], catalog: ScopeCatalog
) -> None:
    def read_scoped_json(register: Callable[..., Any], uri: str, name: str, title: str, description: str) -> Any:
        """Both resources are JSON and need the read scope (the template's also covers completing its id)."""
        return register(
            server, uri, scopes=(model.READ_SCOPE,), name=name, title=title, description=description,
            mime_type="application/json",
        )  # fmt: skip

    @read_scoped_json(catalog.template, ITEM_TEMPLATE, "item", "An item", "One of your items, as the JSON items_get returns.")
    @resource_errors
    def read_item(id: str) -> str:  # noqa: A002 - the template variable agents see
        return ItemOut.of(service().get(current_principal(), id)).model_dump_json(indent=2)

    @read_scoped_json(
        catalog.resource, USAGE_URI, "item-usage", "Your item store",
        "What the item store offers, its limits, and how many items you hold.",
    )  # fmt: skip
    @resource_errors
    def read_usage() -> str:
        principal = current_principal()
        usage = {
            "principal": {"id": principal.id, "name": principal.name, "kind": principal.kind},
            "items": service().count(principal),
            "about": "A private, durable store of notes and records. Tools: items_add, items_get, "
            "items_search, items_list, items_update, items_delete. Read one item as items://<id>.",
            "limits": {
                "title_max_chars": model.TITLE_MAX_CHARS,
                "body_max_bytes": model.BODY_MAX_BYTES,
                "tags_max": model.TAGS_MAX,
                "tag_max_chars": model.TAG_MAX_CHARS,
                "page_limit_max": model.PAGE_LIMIT_MAX,
            },
        }
        return json.dumps(usage, indent=2)

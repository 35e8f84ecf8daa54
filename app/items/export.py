"""`items_export`: every item of the caller as one JSON document, a task with progress.

The product's example of a task-capable tool (task support `optional`): a
client that declared the Tasks extension gets a `CreateTaskResult` at once and
polls; any other client gets the same result synchronously within its deadline.
The body is ordinary tool code: it reports progress with `ctx.report_progress`
(which becomes the task's progress and status message) and returns the export
as an embedded JSON resource plus a short structured summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, EmbeddedResource, TextContent, TextResourceContents, ToolAnnotations
from pydantic import Field

from app.scopes import ScopeCatalog
from app.core.errors import DomainError
from app.core.timestamps import format_timestamp
from app.items.model import PAGE_LIMIT_MAX, READ_SCOPE
from app.items.service import ItemService
from app.core.principal import current_principal
from app.tasks.extension import Tasks

#: Export at most this many items (a task result is one stored record; DynamoDB items stop at 400 KB).
EXPORT_MAX_ITEMS = 1000
EXPORT_URI = "items://export.json"


def register_items_export(
    server: MCPServer[Any], tasks: Tasks, service: Callable[[], ItemService], catalog: ScopeCatalog
) -> None:
    @catalog.task_tool(
        tasks,
        server,
        scopes=(READ_SCOPE,),
        task_support="optional",
        name="items_export",
        title="Export items",
        description=(
            "Export all of your items as one JSON document (an embedded resource, items://export.json), "
            f"oldest first, at most {EXPORT_MAX_ITEMS}. Runs as a task when your client supports the MCP Tasks "
            "extension: poll tasks/get for progress; otherwise it answers directly."
        ),
        annotations=ToolAnnotations(
            title="Export items", read_only_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    )
    async def items_export(
        ctx: Context,
        page_size: Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX, description="Items read per step")] = 50,
    ) -> CallToolResult:
        principal = current_principal()
        items_service = service()
        try:
            total = await anyio.to_thread.run_sync(items_service.count, principal)
            exported: list[dict[str, Any]] = []
            cursor: str | None = None
            while len(exported) < min(total, EXPORT_MAX_ITEMS):
                page = await anyio.to_thread.run_sync(
                    lambda: items_service.list_items(principal, order="oldest", limit=page_size, cursor=cursor)
                )
                exported.extend(
                    {
                        "id": item.id,
                        "title": item.title,
                        "body": item.body,
                        "tags": list(item.tags),
                        "version": item.version,
                        "created_at": format_timestamp(item.created_at),
                        "updated_at": format_timestamp(item.updated_at),
                    }
                    for item in page.items
                )
                await ctx.report_progress(min(len(exported), total), total, f"exported {len(exported)} of {total} items")
                cursor = page.next_cursor
                if cursor is None:
                    break
        except DomainError as exc:
            raise ToolError(str(exc)) from None
        exported = exported[:EXPORT_MAX_ITEMS]
        document = json.dumps({"items": exported, "count": len(exported)}, ensure_ascii=False)
        summary = {"count": len(exported), "total": total, "truncated": total > len(exported), "uri": EXPORT_URI}
        return CallToolResult(
            content=[
                TextContent(type="text", text=f"Exported {len(exported)} of {total} items as {EXPORT_URI}."),
                EmbeddedResource(
                    type="resource",
                    resource=TextResourceContents(uri=EXPORT_URI, mime_type="application/json", text=document),
                ),
            ],
            structured_content=summary,
        )

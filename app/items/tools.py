"""The item tools: registration and thin typed wrappers, nothing else.

Each tool reads the caller from `current_principal()`, calls one service
method and converts the result. Constraints live in the parameter types
(`schemas.py`), rules in the domain (`model.py`, `service.py`), error
translation in `edge.py`.

Why the tools are sync: the service and both adapters block (boto3,
sqlite3). The SDK runs a sync tool in a worker thread and copies the
request's context variables into it, so the event loop stays free and
`current_principal()` still sees the caller. An async tool would have to
make the same `anyio.to_thread.run_sync` call by hand.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server.apps import Apps
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from app.scopes import ScopeCatalog
from app.items import model
from app.items.completions import CompleteItems, make_item_completer
from app.items.edge import tool_errors
from app.items.prompts import register_item_prompts
from app.items.resources import register_item_resources
from app.items.schemas import (
    AddOut,
    Body,
    Cursor,
    DeleteOut,
    ExpectedVersion,
    FilterTags,
    IdempotencyKey,
    ItemId,
    ItemOut,
    ItemPageOut,
    ItemSummary,
    Limit,
    NewBody,
    NewTags,
    NewTitle,
    OptionalExpectedVersion,
    SearchText,
    SortOrder,
    Tags,
    Title,
)
from app.items.service import ItemPage, ItemService
from app.core.principal import current_principal
from app.views import BOARD_URI

P = ParamSpec("P")
R = TypeVar("R")

ServiceProvider = Callable[[], ItemService]
"""Returns the process-wide service; called per request, so it may build lazily."""

Finish = Callable[[MCPServer[Any]], CompleteItems]


class _Registrar:
    """Where each tool goes: bound to the Apps extension when it shows the board, else onto the server later."""

    def __init__(self, apps: Apps | None, catalog: ScopeCatalog) -> None:
        self.apps = apps
        self.catalog = catalog
        self.deferred: list[Callable[[MCPServer[Any]], None]] = []


def _tool(
    registrar: _Registrar,
    name: str,
    scope: str,
    title: str,
    *,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool,
    board: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a sync tool needing `scope`, with error translation, a clean description and hints.

    With `board`, a host that renders MCP Apps shows the result as the item board:
    `Apps.tool` stamps `_meta.ui.resourceUri` and checks the resource exists.
    """

    def register(fn: Callable[P, R]) -> Callable[P, R]:
        registrar.catalog.declare("tool", name, (scope,))
        kwargs: dict[str, Any] = {
            "name": name,
            "title": title,
            # cleandoc: the docstring is what agents read; indentation is noise.
            "description": inspect.cleandoc(fn.__doc__ or ""),
            "annotations": ToolAnnotations(
                title=title,
                read_only_hint=read_only,
                destructive_hint=destructive,
                idempotent_hint=idempotent,
                # Only the caller's own item store is touched, nothing outside.
                open_world_hint=False,
            ),
        }
        wrapped = tool_errors(fn)
        if board and registrar.apps is not None:
            registrar.apps.tool(resource_uri=BOARD_URI, **kwargs)(wrapped)
        else:
            registrar.deferred.append(lambda server: server.add_tool(wrapped, **kwargs))
        return fn

    return register


def _page(page: ItemPage) -> ItemPageOut:
    return ItemPageOut(items=[ItemSummary.of(item) for item in page.items], next_cursor=page.next_cursor)


def register_item_tools(
    server: MCPServer[Any], service_provider: ServiceProvider, catalog: ScopeCatalog | None = None
) -> CompleteItems:
    """Register the item tools, the `items://` resources and the `summarize_items` prompt.

    Returns `complete_items(ref, argument, context)`, the item store's share of
    `completion/complete`. An MCPServer holds exactly one completion handler,
    so this function does not install one; the app's handler delegates:

        complete_items = register_item_tools(server, provider)

        @server.completion()
        async def complete(ref, argument, context):
            return await complete_items(ref, argument, context)  # None: not an item argument

    Chain further delegates with `or`-style fallbacks: each returns None for
    references it does not own. No tool carries the item board here; see
    `bind_item_tools` for that.
    """
    return bind_item_tools(service_provider, catalog or ScopeCatalog())(server)


def bind_item_tools(service_provider: ServiceProvider, catalog: ScopeCatalog, apps: Apps | None = None) -> Finish:
    """`register_item_tools` in two steps, for a server that shows the item board.

    An MCPServer consumes its extensions when it is constructed, so the tools that
    show the board (items_list, items_search, items_get) are bound to `apps` now,
    before the server exists; `apps` must hold the board resource
    (`app.views.add_board`). The returned function registers everything else on
    the server built with `extensions=[apps]` and returns `complete_items`.
    """
    registrar = _Registrar(apps, catalog)
    _register_tools(registrar, service_provider)

    def finish(server: MCPServer[Any]) -> CompleteItems:
        for add in registrar.deferred:
            add(server)
        register_item_resources(server, service_provider, catalog)
        register_item_prompts(server, service_provider, catalog)
        return make_item_completer(service_provider)

    return finish


def _register_tools(registrar: _Registrar, service: ServiceProvider) -> None:
    @_tool(registrar, "items_add", model.WRITE_SCOPE, "Add an item", read_only=False, idempotent=False)
    def items_add(title: Title, body: Body = "", tags: Tags = None, idempotency_key: IdempotencyKey = None) -> AddOut:
        """Store a new note or record (title, body, tags) in your private item store.

        Returns the item with its id and version. Pass an idempotency_key, and
        after a timeout or a "busy; retry" answer retry with the same one: the
        first call may have added the item, and a repeat with the same key
        returns it (created=false) instead of adding a duplicate; reusing a key
        for different content is refused.
        """
        outcome = service().add(current_principal(), title, body, tags or (), idempotency_key)
        return AddOut(item=ItemOut.of(outcome.item), created=outcome.created)

    @_tool(registrar, "items_get", model.READ_SCOPE, "Read an item", read_only=True, idempotent=True, board=True)
    def items_get(id: ItemId) -> ItemOut:  # noqa: A002 - "id" is the name agents see
        """Read one of your items in full, including its current version."""
        return ItemOut.of(service().get(current_principal(), id))

    @_tool(registrar, "items_search", model.READ_SCOPE, "Search items", read_only=True, idempotent=True, board=True)
    def items_search(
        text: SearchText = None,
        tags: FilterTags = None,
        order: SortOrder = "newest",
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ItemPageOut:
        """Find your items whose title or body contains `text` (case-insensitive)
        and that carry every tag in `tags`. Give text, tags or both.

        Bodies are cut to a snippet; use items_get for the whole item. A page
        may hold fewer than `limit` items while next_cursor is set (each call
        examines a bounded number of items): keep paging until next_cursor is null.
        """
        page = service().search(current_principal(), text=text, tags=tags, order=order, limit=limit, cursor=cursor)
        return _page(page)

    @_tool(registrar, "items_list", model.READ_SCOPE, "List items", read_only=True, idempotent=True, board=True)
    def items_list(order: SortOrder = "newest", limit: Limit = 20, cursor: Cursor = None) -> ItemPageOut:
        """List your items page by page in creation order. Bodies are cut to a
        snippet; use items_get for the whole item. Pass next_cursor back as
        cursor for the next page; it is null on the last one."""
        return _page(service().list_items(current_principal(), order=order, limit=limit, cursor=cursor))

    @_tool(registrar, "items_update", model.WRITE_SCOPE, "Update an item", read_only=False, destructive=True, idempotent=True)
    def items_update(
        id: ItemId,  # noqa: A002
        expected_version: ExpectedVersion,
        title: NewTitle = None,
        body: NewBody = None,
        tags: NewTags = None,
    ) -> ItemOut:
        """Change the title, body and/or tags of one of your items.

        Send the version you last read as expected_version. If the item changed
        since, nothing is written and you get a conflict: read it again with
        items_get, reapply your change and retry. Returns the item with its new version.
        Safe to repeat as is after a timeout or a "busy; retry" answer: if the
        first call went through, the repeat returns the item with your change.
        """
        return ItemOut.of(
            service().update(current_principal(), id, expected_version, title=title, body=body, tags=tags)
        )

    @_tool(registrar, "items_delete", model.WRITE_SCOPE, "Delete an item", read_only=False, destructive=True, idempotent=True)
    def items_delete(id: ItemId, expected_version: OptionalExpectedVersion = None) -> DeleteOut:  # noqa: A002
        """Delete one of your items for good. With expected_version, only if it
        has not changed since you read it."""
        service().delete(current_principal(), id, expected_version)
        return DeleteOut(id=id, deleted=True)

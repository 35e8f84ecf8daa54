"""The product's server definition: built once per process, shared by every request."""

from __future__ import annotations

from typing import Any

from mcp.server.apps import Apps
from mcp.server.mcpserver import MCPServer, RequestStateSecurity
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from app import tools
from app.items.service import ItemService
from app.items.export import register_items_export
from app.items.tools import Finish, bind_item_tools
from app.scopes import ScopeCatalog
from app.tasks.factory import TaskRuntime
from app.transport.sdk import new_mcp_server
from app.views import add_board

SERVER_NAME = "mcp-lambda"
SERVER_VERSION = "0.1.0"
INSTRUCTIONS = (
    "A stateless MCP server on AWS Lambda. Every request stands alone; no session is kept. "
    "The items_* tools keep a private, durable store of notes and records for the calling principal."
)


def build_server(
    *,
    request_state_security: RequestStateSecurity | None = None,
    item_service: ItemService | None = None,
    tasks: TaskRuntime | None = None,
    catalog: ScopeCatalog | None = None,
) -> MCPServer[Any]:
    """The MCP server with every tool, resource, prompt and completion registered.

    Without `item_service` the item store is left out (transport tests and
    benchmarks that need only the demo tools), and so is the item board. Each registration
    declares its scopes in `catalog` (the product's; a throw-away one when not given).
    """
    # MCP Apps (io.modelcontextprotocol/ui): the server consumes the extension when it is
    # built, so the board's resource and the tools that show it are bound first.
    catalog = ScopeCatalog() if catalog is None else catalog
    views: Apps | None = None
    finish_items: Finish | None = None
    if item_service is not None:
        service = item_service
        views = Apps()
        add_board(views, catalog)
        finish_items = bind_item_tools(lambda: service, catalog, views)
    # Not MCPServer(...) directly: the SDK's logging set-up would import rich (~40 ms of cold start) for a
    # basicConfig that does nothing on Lambda, and elsewhere render every log line with it (issue 19).
    server: MCPServer[Any] = new_mcp_server(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=SERVER_VERSION,
        request_state_security=request_state_security,
        extensions=[e for e in (views, tasks.extension if tasks else None) if e is not None] or None,
    )
    tools.register(server, catalog)
    if tasks is not None:  # the Tasks extension (io.modelcontextprotocol/tasks): long tools run past the request
        tasks.attach(server)
        if item_service is not None:
            register_items_export(server, tasks.extension, lambda: service, catalog)
    if finish_items is not None:
        complete_items = finish_items(server)

        # An MCPServer holds one completion handler; each feature answers for its own references.
        @server.completion()
        async def complete(
            ref: PromptReference | ResourceTemplateReference,
            argument: CompletionArgument,
            context: CompletionContext | None,
        ) -> Completion:
            answer = await complete_items(ref, argument, context)
            return answer if answer is not None else Completion(values=[], total=0, has_more=False)

    return server

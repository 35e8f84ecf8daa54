"""Argument completion for item ids (`items://{id}`) and tags (`summarize_items`).

An MCPServer has one `completion/complete` handler, owned by the app; this
module only provides the delegate it calls (see `register_item_tools`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import anyio.to_thread
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from app.core.errors import StoreUnavailable
from app.items.prompts import SUMMARIZE_PROMPT
from app.items.resources import ITEM_TEMPLATE
from app.items.service import ItemService
from app.core.principal import current_principal

logger = logging.getLogger(__name__)

#: The protocol caps a completion answer at 100 values.
MAX_VALUES = 100

CompleteItems = Callable[
    [PromptReference | ResourceTemplateReference, CompletionArgument, CompletionContext | None],
    Awaitable[Completion | None],
]


def make_item_completer(service: Callable[[], ItemService]) -> CompleteItems:
    async def complete_items(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        """Completions for an item argument, or None when `ref` is not ours."""
        if isinstance(ref, ResourceTemplateReference) and ref.uri == ITEM_TEMPLATE and argument.name == "id":
            suggest = service().suggest_ids
        elif isinstance(ref, PromptReference) and ref.name == SUMMARIZE_PROMPT and argument.name == "tag":
            suggest = service().suggest_tags
        else:
            return None
        principal = current_principal()
        try:
            # The store blocks: keep it off the event loop.
            values = await anyio.to_thread.run_sync(
                functools.partial(suggest, principal, argument.value, MAX_VALUES + 1)
            )
        except StoreUnavailable:
            # Suggestions are a convenience; a busy store means none this time.
            logger.info("item completion skipped: store busy", extra={"argument": argument.name})
            return Completion(values=[], has_more=False)
        more = len(values) > MAX_VALUES
        return Completion(values=values[:MAX_VALUES], total=None if more else len(values), has_more=more)

    return complete_items

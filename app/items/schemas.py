"""What agents see: parameter types with their constraints, and result shapes.

The parameter aliases carry the domain limits (from `model.py`) into the
JSON schema of every tool, so an agent learns them before calling. The
result models are pydantic, so the SDK derives each tool's `outputSchema`
and returns `structuredContent` that matches it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.timestamps import format_timestamp
from app.items import model
from app.items.model import Item

# Optional parameters put `| None` inside `Annotated`, so the description and
# the constraints sit at the top of the property's schema, where agents look.
_TITLE = f"Short title on one line, 1-{model.TITLE_MAX_CHARS} characters."
_BODY = f"Free text (Markdown welcome), at most {model.BODY_MAX_BYTES} bytes of UTF-8."
_TAGS = (
    f"Up to {model.TAGS_MAX} tags, each 1-{model.TAG_MAX_CHARS} characters of lowercase a-z, 0-9, '-' and '_'. "
    "Order and repeats are ignored."
)
Tag = Annotated[str, Field(min_length=1, max_length=model.TAG_MAX_CHARS, pattern=model.TAG_PATTERN)]

ItemId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=model.ITEM_ID_MAX_CHARS,
        pattern=model.ITEM_ID_PATTERN,
        description="An item id, as returned by items_add, items_list or items_search.",
    ),
]
Title = Annotated[str, Field(min_length=1, max_length=model.TITLE_MAX_CHARS, description=_TITLE)]
NewTitle = Annotated[
    str | None, Field(min_length=1, max_length=model.TITLE_MAX_CHARS, description=_TITLE + " Omit to keep.")
]
Body = Annotated[str, Field(max_length=model.BODY_MAX_BYTES, description=_BODY)]
NewBody = Annotated[str | None, Field(max_length=model.BODY_MAX_BYTES, description=_BODY + " Omit to keep.")]
Tags = Annotated[list[Tag] | None, Field(max_length=model.TAGS_MAX, description=_TAGS)]
NewTags = Annotated[
    list[Tag] | None,
    Field(max_length=model.TAGS_MAX, description=_TAGS + " Replaces all tags; [] removes them; omit to keep."),
]
FilterTags = Annotated[
    list[Tag] | None,
    Field(max_length=model.TAGS_MAX, description="Only items carrying all of these tags."),
]
ExpectedVersion = Annotated[
    int,
    Field(ge=1, description="The item's 'version' as you last read it; the change is refused if it moved on."),
]
OptionalExpectedVersion = Annotated[
    int | None,
    Field(
        ge=1,
        description="The item's 'version' as you last read it, to delete only if unchanged; omit to delete anyway.",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=model.IDEMPOTENCY_KEY_MAX_CHARS,
        pattern=model.IDEMPOTENCY_KEY_PATTERN,
        description="A key you choose (e.g. a UUID) so that retrying this call never creates a second item: "
        "a repeat with the same key and content returns the first result. Always send one: after a timeout "
        "(-32001) or a 'busy; retry' answer the item may have been added, and only a retry with the same key "
        "tells. Remembered 24 hours by default.",
    ),
]
Limit = Annotated[int, Field(ge=1, le=model.PAGE_LIMIT_MAX, description=f"Page size, 1-{model.PAGE_LIMIT_MAX}.")]
Cursor = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=model.CURSOR_MAX_CHARS,
        description="The next_cursor of the previous page of the same call, to continue; omit to start.",
    ),
]
SortOrder = Annotated[
    Literal["newest", "oldest"], Field(description="Creation order: 'newest' first (default) or 'oldest' first.")
]
SearchText = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=model.SEARCH_TEXT_MAX_CHARS,
        description="Text to find in the title or body, case-insensitive.",
    ),
]


class ItemOut(BaseModel):
    """One item, complete."""

    id: str
    uri: str = Field(description="The item as a resource: items://<id>.")
    title: str
    body: str
    tags: list[str]
    version: int = Field(description="Grows by one with every change; pass it as expected_version to change it.")
    created_at: str = Field(description="ISO 8601, UTC.")
    updated_at: str = Field(description="ISO 8601, UTC.")

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(
            id=item.id,
            uri=item_uri(item.id),
            title=item.title,
            body=item.body,
            tags=list(item.tags),
            version=item.version,
            created_at=format_timestamp(item.created_at),
            updated_at=format_timestamp(item.updated_at),
        )


class ItemSummary(BaseModel):
    """One item in a listing: the body is cut to a snippet; items_get has it whole."""

    id: str
    uri: str
    title: str
    snippet: str
    tags: list[str]
    version: int
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, item: Item) -> ItemSummary:
        return cls(
            id=item.id,
            uri=item_uri(item.id),
            title=item.title,
            snippet=item.snippet(),
            tags=list(item.tags),
            version=item.version,
            created_at=format_timestamp(item.created_at),
            updated_at=format_timestamp(item.updated_at),
        )


class ItemPageOut(BaseModel):
    items: list[ItemSummary]
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null when there is no more.")


class AddOut(BaseModel):
    item: ItemOut
    created: bool = Field(description="False when an earlier call with the same idempotency_key created it.")


class DeleteOut(BaseModel):
    id: str
    deleted: bool


def item_uri(item_id: str) -> str:
    return f"items://{item_id}"

"""The item store's domain: values, limits and validation rules.

Pure Python: no boto3, no mcp, no starlette. The tool schemas (`schemas.py`)
publish the same limits so an agent sees them up front, but the rules are
enforced here too, because the domain must hold whoever calls it (a tool,
a test, a future batch job) and because a JSON schema cannot express every
rule (UTF-8 byte length, lone surrogates, control characters).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from app.core.errors import InvalidInput

TITLE_MAX_CHARS = 200
#: Body limit in UTF-8 bytes: what storage pays for. The schema can only say
#: `maxLength` (characters), so it publishes the same number as a character bound.
BODY_MAX_BYTES = 16 * 1024
TAGS_MAX = 20
TAG_MAX_CHARS = 50
TAG_PATTERN = r"^[a-z0-9_-]+$"
ITEM_ID_MAX_CHARS = 64
ITEM_ID_PATTERN = r"^[A-Za-z0-9_-]+$"
IDEMPOTENCY_KEY_MAX_CHARS = 128
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]+$"

#: What an agent reads when the store is throttled or unreachable. A write can have committed before
#: the failure was seen (a reset or timed-out DynamoDB response), so the retry must be the *same* call:
#: items_add with the same idempotency_key returns the first item; an items_update repeated with the
#: same expected_version returns the item once the change is in; a repeated delete says it may be done.
ITEM_STORE_BUSY = (
    "the item store is busy; retry the same call in a moment (a write may already have been applied: "
    "retry items_add with the same idempotency_key, and items_update with the same expected_version)"
)
SEARCH_TEXT_MAX_CHARS = 200
PAGE_LIMIT_MAX = 100
CURSOR_MAX_CHARS = 1024
SNIPPET_CHARS = 160
#: OAuth scopes of the store: reading it, changing it (each tool, resource and prompt declares one, `app.scopes`).
READ_SCOPE = "items:read"
WRITE_SCOPE = "items:write"

Order = Literal["newest", "oldest"]
"""Listing order by creation time. Item ids start with their creation time, so
both backends order by id."""

_TAG_RE = re.compile(TAG_PATTERN.strip("^$"))
_ITEM_ID_RE = re.compile(ITEM_ID_PATTERN.strip("^$"))
_IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN.strip("^$"))
#: Line breaks and tabs are text in a body; every other control character is
#: almost always an encoding accident, and NUL truncates strings in some tools.
_BODY_CONTROLS_ALLOWED = frozenset("\n\r\t")


@dataclass(frozen=True)
class ItemDraft:
    """What a caller asks to store. Build it with `ItemDraft.parse` to validate."""

    title: str
    body: str
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, title: str, body: str, tags: Iterable[str]) -> ItemDraft:
        return cls(title=check_title(title), body=check_body(body), tags=normalize_tags(tags))

    def fingerprint(self) -> str:
        """A stable digest of the content, to tell a retry from a different request."""
        canonical = json.dumps([self.title, self.body, list(self.tags)], ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ItemPatch:
    """A partial update: `None` leaves a field as it is; `tags` replaces the whole set."""

    title: str | None = None
    body: str | None = None
    tags: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, title: str | None, body: str | None, tags: Iterable[str] | None) -> ItemPatch:
        if title is None and body is None and tags is None:
            raise InvalidInput("nothing to update: give at least one of title, body or tags")
        return cls(
            title=None if title is None else check_title(title),
            body=None if body is None else check_body(body),
            tags=None if tags is None else normalize_tags(tags),
        )


@dataclass(frozen=True)
class Item:
    """A stored item. `version` starts at 1 and grows by one with every write."""

    id: str
    title: str
    body: str
    tags: tuple[str, ...]
    version: int
    created_at: datetime
    updated_at: datetime

    def apply(self, patch: ItemPatch) -> Item:
        """The content after `patch`, version and timestamps untouched."""
        return replace(
            self,
            title=self.title if patch.title is None else patch.title,
            body=self.body if patch.body is None else patch.body,
            tags=self.tags if patch.tags is None else patch.tags,
        )

    def same_content(self, other: Item) -> bool:
        return (self.title, self.body, self.tags) == (other.title, other.body, other.tags)

    def snippet(self) -> str:
        """The start of the body on one line, for listings."""
        flat = " ".join(self.body.split())
        return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


@dataclass(frozen=True)
class SearchQuery:
    """Case-insensitive substring on title or body, and all of `tags`."""

    text: str | None
    tags: tuple[str, ...]
    order: Order

    @classmethod
    def parse(cls, text: str | None, tags: Iterable[str] | None, order: Order) -> SearchQuery:
        if text is not None:
            text = _check_text(text, "text", max_chars=SEARCH_TEXT_MAX_CHARS, allowed_controls=frozenset())
            if not text.strip():
                raise InvalidInput("text must not be blank; omit it to search by tags only")
        normalized_tags = normalize_tags(tags or ())
        if text is None and not normalized_tags:
            raise InvalidInput("give text or at least one tag to search for; use items_list to see everything")
        return cls(text=text, tags=normalized_tags, order=check_order(order))

    def matches(self, item: Item) -> bool:
        if not set(self.tags).issubset(item.tags):
            return False
        if self.text is None:
            return True
        needle = self.text.casefold()
        return needle in item.title.casefold() or needle in item.body.casefold()

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same search, whatever the page size."""
        text = "" if self.text is None else self.text.casefold()
        return json.dumps(["search", self.order, text, list(self.tags)], ensure_ascii=True)


def list_fingerprint(order: Order) -> str:
    return json.dumps(["list", order])


def _check_text(value: str, field: str, *, max_chars: int, allowed_controls: frozenset[str]) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON allows "\ud800"; UTF-8 does not. Refuse it before it reaches storage.
        raise InvalidInput(f"{field} is not valid Unicode text (it contains a lone surrogate)") from None
    if len(value) > max_chars:
        raise InvalidInput(f"{field} is too long: {len(value)} characters, at most {max_chars}")
    for ch in value:
        if ch not in allowed_controls and unicodedata.category(ch) == "Cc":
            raise InvalidInput(f"{field} contains a control character (U+{ord(ch):04X}); remove it")
    return value


def check_title(title: str) -> str:
    title = _check_text(title, "title", max_chars=TITLE_MAX_CHARS, allowed_controls=frozenset())
    if not title.strip():
        raise InvalidInput(f"title must not be empty or blank (1-{TITLE_MAX_CHARS} characters)")
    return title


def check_body(body: str) -> str:
    body = _check_text(body, "body", max_chars=BODY_MAX_BYTES, allowed_controls=_BODY_CONTROLS_ALLOWED)
    size = len(body.encode("utf-8"))
    if size > BODY_MAX_BYTES:
        raise InvalidInput(f"body is too large: {size} bytes of UTF-8, at most {BODY_MAX_BYTES}")
    return body


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Validate, then de-duplicate and sort: tags are a set, and a stable order
    makes equal sets compare (and fingerprint) equal."""
    if isinstance(tags, str):
        raise InvalidInput("tags must be a list of strings, not one string")
    seen: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= TAG_MAX_CHARS or not _TAG_RE.fullmatch(tag):
            raise InvalidInput(
                f"invalid tag {tag!r}: use 1-{TAG_MAX_CHARS} characters of lowercase a-z, digits, '-' or '_'"
            )
        seen.add(tag)
    if len(seen) > TAGS_MAX:
        raise InvalidInput(f"too many tags: {len(seen)}, at most {TAGS_MAX}")
    return tuple(sorted(seen))


def check_item_id(item_id: str) -> str:
    if not isinstance(item_id, str) or not 1 <= len(item_id) <= ITEM_ID_MAX_CHARS or not _ITEM_ID_RE.fullmatch(item_id):
        raise InvalidInput(
            "malformed item id: ids are the 'id' values returned by items_add, items_list or items_search"
        )
    return item_id


def check_idempotency_key(key: str) -> str:
    if (
        not isinstance(key, str)
        or not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_CHARS
        or not _IDEMPOTENCY_KEY_RE.fullmatch(key)
    ):
        raise InvalidInput(
            f"invalid idempotency_key: use 1-{IDEMPOTENCY_KEY_MAX_CHARS} characters of letters, digits, "
            "'.', '_', ':' or '-'"
        )
    return key


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be an integer from 1 to {PAGE_LIMIT_MAX}")
    return limit


def check_version(version: int, field: str = "expected_version") -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"{field} must be a positive integer: the 'version' of the item as you last read it")
    return version


def check_order(order: str) -> Order:
    if order == "newest":
        return "newest"
    if order == "oldest":
        return "oldest"
    raise InvalidInput("order must be 'newest' or 'oldest'")


def new_item_id(now: datetime, token: str) -> str:
    """`<12 hex digits of epoch milliseconds><random token>`.

    The time prefix makes ids sort by creation, so both backends list in
    creation order straight from their primary key (no index, strongly
    consistent). The token (from `secrets.token_urlsafe`) carries the
    unguessability: 128 random bits for a 16-byte token.
    """
    millis = int(now.timestamp() * 1000)
    return f"{millis:012x}{token}"



"""The item store's use cases, over the storage port.

Pure domain logic: no boto3, no mcp, no contextvars. The caller (a tool)
says who is calling by passing the `Principal`; every operation is scoped to
it, and an id that is unknown or belongs to someone else answers with the
same `NotFound`.

Blocking: adapters do I/O synchronously, so call these methods from a worker
thread (the MCP SDK runs sync tools in one).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.core.errors import Conflict, NotFound
from app.items.cursor import CursorCodec, CursorPosition
from app.items.model import (
    Item,
    ItemDraft,
    ItemPatch,
    Order,
    SearchQuery,
    check_idempotency_key,
    check_item_id,
    check_limit,
    check_order,
    check_version,
    list_fingerprint,
    new_item_id,
)
from app.items.port import IdempotencyRecord, ItemStore, WriteOutcome
from app.core.principal import Principal

logger = logging.getLogger(__name__)

#: Most items one search call examines before it returns what it found with a
#: cursor; bounds the time (and read cost) of a call whatever the store size.
SEARCH_SCAN_BUDGET = 500
#: Most items a completion request looks at (the newest ones).
SUGGESTION_SCAN_BUDGET = 300
_STORE_PAGE = 100


@dataclass(frozen=True)
class AddOutcome:
    item: Item
    #: False when an earlier call with the same idempotency key created the item.
    created: bool


@dataclass(frozen=True)
class ItemPage:
    items: tuple[Item, ...]
    next_cursor: str | None


def _default_clock() -> datetime:
    return datetime.now(UTC)


def _default_token() -> str:
    return secrets.token_urlsafe(16)


class ItemService:
    """Add, read, find, update and delete the calling principal's items."""

    def __init__(
        self,
        store: ItemStore,
        cursors: CursorCodec,
        *,
        idempotency_window: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = _default_clock,
        new_token: Callable[[], str] = _default_token,
    ) -> None:
        self._store = store
        self._cursors = cursors
        self._idempotency_window = idempotency_window
        self._clock = clock
        self._new_token = new_token

    def add(
        self,
        principal: Principal,
        title: str,
        body: str = "",
        tags: Iterable[str] = (),
        idempotency_key: str | None = None,
    ) -> AddOutcome:
        """Create an item. With an idempotency key, a repeat of the same call
        returns the first result instead of creating a second item."""
        draft = ItemDraft.parse(title, body, tags)
        now = self._clock()
        item = Item(
            id=new_item_id(now, self._new_token()),
            title=draft.title,
            body=draft.body,
            tags=draft.tags,
            version=1,
            created_at=now,
            updated_at=now,
        )
        record = None
        if idempotency_key is not None:
            record = IdempotencyRecord(
                key=check_idempotency_key(idempotency_key),
                item_id=item.id,
                fingerprint=draft.fingerprint(),
                expires_at=now + self._idempotency_window,
            )
        existing = self._store.create(principal.id, item, record, now)
        if existing is None:
            self._log("item created", principal, item.id, version=1, idempotent=record is not None)
            return AddOutcome(item=item, created=True)
        assert record is not None  # the store only answers with a record when it was given one
        return AddOutcome(item=self._replay(principal, existing, record), created=False)

    def _replay(self, principal: Principal, existing: IdempotencyRecord, attempted: IdempotencyRecord) -> Item:
        if existing.fingerprint != attempted.fingerprint:
            raise Conflict(
                f"idempotency_key {attempted.key!r} was already used to add an item with different "
                "title, body or tags; use a new idempotency_key for new content"
            )
        current = self._store.get(principal.id, existing.item_id)
        if current is None:
            raise Conflict(
                f"idempotency_key {attempted.key!r} already created item {existing.item_id!r}, which has "
                "since been deleted; use a new idempotency_key to add it again"
            )
        self._log("idempotent add replayed", principal, current.id, version=current.version)
        return current

    def get(self, principal: Principal, item_id: str) -> Item:
        item = self._store.get(principal.id, check_item_id(item_id))
        if item is None:
            raise _not_found(item_id)
        return item

    def update(
        self,
        principal: Principal,
        item_id: str,
        expected_version: int,
        *,
        title: str | None = None,
        body: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> Item:
        """Change an item if it is still at `expected_version` (optimistic concurrency).

        An update that changes nothing writes nothing. A retry of an update
        that already went through (the content already is what was asked)
        answers with the current item instead of a conflict.
        """
        check_item_id(item_id)
        check_version(expected_version)
        patch = ItemPatch.parse(title, body, tags)
        current = self.get(principal, item_id)
        wanted = current.apply(patch)
        if wanted.same_content(current):
            return current
        if current.version != expected_version:
            raise _stale(item_id, expected_version, current.version)
        updated = replace(wanted, version=current.version + 1, updated_at=self._clock())
        outcome = self._store.replace(principal.id, updated, expected_version)
        self._raise_for(outcome, item_id, expected_version)
        self._log("item updated", principal, item_id, version=updated.version)
        return updated

    def delete(self, principal: Principal, item_id: str, expected_version: int | None = None) -> None:
        check_item_id(item_id)
        if expected_version is not None:
            check_version(expected_version)
        outcome = self._store.delete(principal.id, item_id, expected_version)
        if outcome == "missing":
            # A retried delete whose first attempt committed (then timed out or answered busy) lands here:
            # say so, in words that are the same for every id, so nothing about the id is revealed.
            raise NotFound(f"item {item_id!r} not found{RETRIED_DELETE_HINT}")
        self._raise_for(outcome, item_id, expected_version)
        self._log("item deleted", principal, item_id, version=expected_version)

    def list_items(
        self, principal: Principal, *, order: Order = "newest", limit: int = 20, cursor: str | None = None
    ) -> ItemPage:
        """One page of the caller's items in creation order."""
        order = check_order(order)
        check_limit(limit)
        query = list_fingerprint(order)
        after = self._open(cursor, principal, query)
        page = self._store.page(principal.id, order=order, after_id=after, limit=limit)
        next_cursor = None
        if page.has_more and page.items:
            next_cursor = self._seal(page.items[-1].id, principal, query)
        return ItemPage(items=page.items, next_cursor=next_cursor)

    def search(
        self,
        principal: Principal,
        *,
        text: str | None = None,
        tags: Iterable[str] | None = None,
        order: Order = "newest",
        limit: int = 20,
        cursor: str | None = None,
    ) -> ItemPage:
        """Matching items, filtered here rather than in the backend so both
        backends match identically (Unicode case folding). A call examines at
        most `SEARCH_SCAN_BUDGET` items: it may return fewer than `limit`
        matches together with a cursor to keep going."""
        query = SearchQuery.parse(text, tags, order)
        check_limit(limit)
        fingerprint = query.fingerprint()
        after = self._open(cursor, principal, fingerprint)
        matches: list[Item] = []
        scanned = 0
        exhausted = False
        while len(matches) < limit and scanned < SEARCH_SCAN_BUDGET and not exhausted:
            page = self._store.page(
                principal.id, order=query.order, after_id=after, limit=min(_STORE_PAGE, SEARCH_SCAN_BUDGET - scanned)
            )
            if not page.items:
                exhausted = True
                break
            consumed = 0
            for item in page.items:
                consumed += 1
                after = item.id
                if query.matches(item):
                    matches.append(item)
                    if len(matches) == limit:
                        break
            scanned += consumed
            exhausted = consumed == len(page.items) and not page.has_more
        next_cursor = None if exhausted or after is None else self._seal(after, principal, fingerprint)
        return ItemPage(items=tuple(matches), next_cursor=next_cursor)

    def count(self, principal: Principal) -> int:
        return self._store.count(principal.id)

    def suggest_tags(self, principal: Principal, prefix: str, limit: int = 100) -> list[str]:
        """Tags in use by the caller's newest items that start with `prefix`."""
        prefix = prefix.casefold()
        found = {tag for item in self._recent(principal) for tag in item.tags if tag.startswith(prefix)}
        return sorted(found)[:limit]

    def suggest_ids(self, principal: Principal, prefix: str, limit: int = 100) -> list[str]:
        """Ids of the caller's newest items that start with `prefix`."""
        return [item.id for item in self._recent(principal) if item.id.startswith(prefix)][:limit]

    def _recent(self, principal: Principal) -> list[Item]:
        items: list[Item] = []
        after: str | None = None
        while len(items) < SUGGESTION_SCAN_BUDGET:
            page = self._store.page(
                principal.id,
                order="newest",
                after_id=after,
                limit=min(_STORE_PAGE, SUGGESTION_SCAN_BUDGET - len(items)),
            )
            items.extend(page.items)
            if not page.has_more or not page.items:
                break
            after = page.items[-1].id
        return items

    def _open(self, cursor: str | None, principal: Principal, query: str) -> str | None:
        if cursor is None:
            return None
        return self._cursors.open(cursor, principal_id=principal.id, query=query).after_id

    def _seal(self, after_id: str, principal: Principal, query: str) -> str:
        return self._cursors.seal(CursorPosition(after_id=after_id), principal_id=principal.id, query=query)

    @staticmethod
    def _raise_for(outcome: WriteOutcome, item_id: str, expected_version: int | None) -> None:
        if outcome == "missing":
            raise _not_found(item_id)
        if outcome == "stale":
            raise _stale(item_id, expected_version, None)

    @staticmethod
    def _log(event: str, principal: Principal, item_id: str, **fields: object) -> None:
        # Identity and ids only: titles, bodies and keys are the caller's data.
        logger.info(event, extra={"principal_id": principal.id, "item_id": item_id, **fields})


#: Added to a delete's "not found": the only ambiguity a retried delete leaves.
RETRIED_DELETE_HINT = (
    "; if an earlier items_delete of this id timed out or answered busy, that call deleted it"
)


def _not_found(item_id: str) -> NotFound:
    # One message for "never existed", "deleted" and "someone else's": nothing to infer.
    return NotFound(f"item {item_id!r} not found")


def _stale(item_id: str, expected: int | None, current: int | None) -> Conflict:
    at = f"it is now at version {current}, " if current is not None else ""
    return Conflict(
        f"item {item_id!r} was changed by someone else: {at}not version {expected}. "
        "Read it again with items_get, reapply your change to the current content, "
        "and retry with the new version as expected_version"
    )

"""The storage port: what the service needs from a backend, and nothing more.

Two adapters implement it: `sqlite_store.SqliteItemStore` (local, embedded)
and `dynamo_store.DynamoItemStore` (Lambda). Both run the same behaviour
suite (`tests/items/test_store_behaviour.py`), which is the real contract;
this file is its typed summary.

Rules every adapter keeps:
- Everything is partitioned by `principal_id`; no method can reach another
  principal's data, whatever id it is given.
- Writes are atomic and conditional; a failed condition writes nothing and
  is reported as an outcome, never raised: the service owns the messages.
- Throttling or a briefly unreachable backend raises `StoreUnavailable`;
  anything else unexpected propagates unchanged.
- Methods are blocking. Callers run them off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from app.items.model import Item, Order

WriteOutcome = Literal["ok", "missing", "stale"]
"""`ok`: written. `missing`: no such item for this principal. `stale`: the item
exists but its version is not the expected one."""


@dataclass(frozen=True)
class IdempotencyRecord:
    """Remembers which item an idempotency key created, and from what content."""

    key: str
    item_id: str
    fingerprint: str
    expires_at: datetime


@dataclass(frozen=True)
class StorePage:
    items: tuple[Item, ...]
    has_more: bool


class ItemStore(Protocol):
    def create(
        self, principal_id: str, item: Item, idempotency: IdempotencyRecord | None, now: datetime
    ) -> IdempotencyRecord | None:
        """Write a new item, and its idempotency record when given, atomically.

        Returns None when written. When the key is already held by a record
        that has not expired at `now`, writes nothing and returns that record.
        """
        ...

    def get(self, principal_id: str, item_id: str) -> Item | None:
        """The item, read strongly consistent, or None."""
        ...

    def replace(self, principal_id: str, item: Item, expected_version: int) -> WriteOutcome:
        """Overwrite the item if it exists at `expected_version`."""
        ...

    def delete(self, principal_id: str, item_id: str, expected_version: int | None) -> WriteOutcome:
        """Delete the item if it exists (and, when given, is at `expected_version`)."""
        ...

    def page(self, principal_id: str, *, order: Order, after_id: str | None, limit: int) -> StorePage:
        """Up to `limit` items in id order, starting after `after_id` (which need not exist)."""
        ...

    def count(self, principal_id: str) -> int:
        """How many items the principal holds."""
        ...

    def close(self) -> None:
        """Release connections. The store is unusable afterwards."""
        ...

"""An in-memory `ItemStore`: the port in a few lines, for pure service tests.

It also shows what a third adapter must do; the behaviour suite is the real
contract and runs against the two production adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.items.model import Item, Order
from app.items.port import IdempotencyRecord, StorePage, WriteOutcome


@dataclass
class MemoryItemStore:
    items: dict[tuple[str, str], Item] = field(default_factory=dict)
    keys: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    page_calls: int = 0

    def create(
        self, principal_id: str, item: Item, idempotency: IdempotencyRecord | None, now: datetime
    ) -> IdempotencyRecord | None:
        if idempotency is not None:
            existing = self.keys.get((principal_id, idempotency.key))
            if existing is not None and existing.expires_at >= now:
                return existing
            self.keys[(principal_id, idempotency.key)] = idempotency
        self.items[(principal_id, item.id)] = item
        return None

    def get(self, principal_id: str, item_id: str) -> Item | None:
        return self.items.get((principal_id, item_id))

    def replace(self, principal_id: str, item: Item, expected_version: int) -> WriteOutcome:
        current = self.items.get((principal_id, item.id))
        if current is None:
            return "missing"
        if current.version != expected_version:
            return "stale"
        self.items[(principal_id, item.id)] = item
        return "ok"

    def delete(self, principal_id: str, item_id: str, expected_version: int | None) -> WriteOutcome:
        current = self.items.get((principal_id, item_id))
        if current is None:
            return "missing"
        if expected_version is not None and current.version != expected_version:
            return "stale"
        del self.items[(principal_id, item_id)]
        return "ok"

    def page(self, principal_id: str, *, order: Order, after_id: str | None, limit: int) -> StorePage:
        self.page_calls += 1
        ids = sorted((i for (p, i) in self.items if p == principal_id), reverse=order == "newest")
        if after_id is not None:
            ids = [i for i in ids if (i > after_id if order == "oldest" else i < after_id)]
        return StorePage(items=tuple(self.items[(principal_id, i)] for i in ids[:limit]), has_more=len(ids) > limit)

    def count(self, principal_id: str) -> int:
        return sum(1 for (p, _) in self.items if p == principal_id)

    def close(self) -> None:
        self.items.clear()

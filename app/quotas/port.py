"""The quota storage port: a conditional counter and a compare-and-set slot set, per principal.

Adapters: `sqlite_store.SqliteQuotaStore` (local) and `dynamo_store.DynamoQuotaStore`
(Lambda, in the item table). Both run `tests/quotas/test_store_behaviour.py`.
Throttling or an unreachable backend raises `StoreUnavailable`. Methods block.
"""

from __future__ import annotations

from typing import Protocol

from app.quotas.model import Window


class QuotaStore(Protocol):
    def increment(self, principal_id: str, counter: str, window: Window, limit: int) -> bool:
        """Add one to the window's counter unless it already reached `limit` (atomic). True if counted."""
        ...

    def read_slots(self, principal_id: str) -> tuple[dict[str, float], int]:
        """The principal's working-task slots (key -> expiry, epoch s) and their version (0: none yet)."""
        ...

    def write_slots(self, principal_id: str, slots: dict[str, float], expected_version: int) -> bool:
        """Replace the slots if still at `expected_version`; False (nothing written) otherwise."""
        ...

    def close(self) -> None: ...

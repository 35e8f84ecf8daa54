"""Quotas in the local SQLite file (beside items and tasks): `make run`, no AWS.

The counter is one `INSERT … ON CONFLICT DO UPDATE … WHERE count < limit`
inside `BEGIN IMMEDIATE` (`SqlitePool.transaction`): the write lock is taken
first, so two callers can never both see `limit - 1`.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.quotas.model import Window
from app.core.sqlite_pool import SqlitePool

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS quota_counters (
        principal_id TEXT NOT NULL, counter TEXT NOT NULL, window_start INTEGER NOT NULL,
        count INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        PRIMARY KEY (principal_id, counter, window_start)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS quota_slots (
        principal_id TEXT PRIMARY KEY, version INTEGER NOT NULL, slots TEXT NOT NULL) WITHOUT ROWID""",
)
_BUSY = "the quota store is busy; retry the same call in a moment"


class SqliteQuotaStore:
    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self._pool = SqlitePool(path, busy_message=_BUSY, busy_timeout_ms=busy_timeout_ms)
        with self._pool.lease() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    def increment(self, principal_id: str, counter: str, window: Window, limit: int) -> bool:
        if limit <= 0:
            return False
        with self._pool.transaction() as conn:
            rows = conn.execute(
                "INSERT INTO quota_counters (principal_id, counter, window_start, count, expires_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (principal_id, counter, window_start) "
                "DO UPDATE SET count = count + 1 WHERE count < ? RETURNING count",
                (principal_id, counter, window.start, window.resets_at, limit),
            ).fetchall()  # all: a RETURNING statement left unfinished holds the transaction open
            row = rows[0] if rows else None
            if row is not None and row[0] == 1:
                # A new window's first call: drop this principal's windows that are over
                # (DynamoDB's TTL does this on Lambda), so the file does not grow forever.
                conn.execute(
                    "DELETE FROM quota_counters WHERE principal_id = ? AND expires_at <= ?", (principal_id, window.start)
                )
            return row is not None

    def read_slots(self, principal_id: str) -> tuple[dict[str, float], int]:
        rows = self._pool.read("SELECT slots, version FROM quota_slots WHERE principal_id = ?", (principal_id,))
        if not rows:
            return {}, 0
        return {str(k): float(v) for k, v in json.loads(rows[0][0]).items()}, int(rows[0][1])

    def write_slots(self, principal_id: str, slots: dict[str, float], expected_version: int) -> bool:
        encoded = json.dumps(slots, separators=(",", ":"))
        with self._pool.transaction() as conn:
            if expected_version == 0:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO quota_slots (principal_id, version, slots) VALUES (?, 1, ?)",
                    (principal_id, encoded),
                )
            else:
                cur = conn.execute(
                    "UPDATE quota_slots SET version = version + 1, slots = ? WHERE principal_id = ? AND version = ?",
                    (encoded, principal_id, expected_version),
                )
            return cur.rowcount == 1

    def close(self) -> None:
        self._pool.close()

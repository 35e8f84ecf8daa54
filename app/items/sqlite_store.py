"""The embedded SQLite adapter: the store for local runs, no AWS needed.

Connections, WAL mode, busy handling and `BEGIN IMMEDIATE` transactions come
from `app.core.sqlite_pool` (shared with the task store; its docstring says why
each is needed). Every read-modify-write here runs inside one transaction.

Never use it on Lambda: a file in /tmp is per-instance memory, not state.
`ItemStoreSettings` refuses that combination.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.sqlite_pool import SqlitePool
from app.core.timestamps import format_timestamp, parse_timestamp
from app.items.model import ITEM_STORE_BUSY, Item, Order
from app.items.port import IdempotencyRecord, StorePage, WriteOutcome

logger = logging.getLogger(__name__)

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    principal_id TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    tags         TEXT NOT NULL,      -- JSON array of strings
    version      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (principal_id, item_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
    principal_id TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,   -- epoch seconds
    PRIMARY KEY (principal_id, idem_key)
) WITHOUT ROWID;
"""
_ITEM_COLUMNS = "item_id, title, body, tags, version, created_at, updated_at"


class SqliteItemStore:
    """`ItemStore` on one SQLite file, created (with its directory) on demand."""

    #: Idle connections kept for reuse (see `SqlitePool`).
    POOL_SIZE = SqlitePool.POOL_SIZE

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self._pool = SqlitePool(
            path, busy_message=ITEM_STORE_BUSY, busy_timeout_ms=busy_timeout_ms
        )
        self._transaction = self._pool.transaction
        self._read = self._pool.read
        with self._transaction() as conn:
            # Statement by statement: executescript() would COMMIT our transaction.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def create(
        self, principal_id: str, item: Item, idempotency: IdempotencyRecord | None, now: datetime
    ) -> IdempotencyRecord | None:
        with self._transaction() as conn:
            if idempotency is not None:
                row = conn.execute(
                    "SELECT item_id, fingerprint, expires_at FROM idempotency WHERE principal_id = ? AND idem_key = ?",
                    (principal_id, idempotency.key),
                ).fetchone()
                if row is not None and row[2] >= int(now.timestamp()):
                    return IdempotencyRecord(
                        key=idempotency.key,
                        item_id=row[0],
                        fingerprint=row[1],
                        expires_at=datetime.fromtimestamp(row[2], tz=now.tzinfo),
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?)",
                    (
                        principal_id,
                        idempotency.key,
                        idempotency.item_id,
                        idempotency.fingerprint,
                        int(idempotency.expires_at.timestamp()),
                    ),
                )
            conn.execute(
                f"INSERT INTO items (principal_id, {_ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (principal_id, *_row(item)),
            )
        return None

    def get(self, principal_id: str, item_id: str) -> Item | None:
        rows = self._read(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE principal_id = ? AND item_id = ?", (principal_id, item_id)
        )
        return _item(rows[0]) if rows else None

    def replace(self, principal_id: str, item: Item, expected_version: int) -> WriteOutcome:
        with self._transaction() as conn:
            cur = conn.execute(
                "UPDATE items SET title = ?, body = ?, tags = ?, version = ?, updated_at = ? "
                "WHERE principal_id = ? AND item_id = ? AND version = ?",
                (
                    item.title,
                    item.body,
                    json.dumps(list(item.tags)),
                    item.version,
                    format_timestamp(item.updated_at),
                    principal_id,
                    item.id,
                    expected_version,
                ),
            )
            return "ok" if cur.rowcount == 1 else self._why_not(conn, principal_id, item.id)

    def delete(self, principal_id: str, item_id: str, expected_version: int | None) -> WriteOutcome:
        with self._transaction() as conn:
            if expected_version is None:
                cur = conn.execute("DELETE FROM items WHERE principal_id = ? AND item_id = ?", (principal_id, item_id))
            else:
                cur = conn.execute(
                    "DELETE FROM items WHERE principal_id = ? AND item_id = ? AND version = ?",
                    (principal_id, item_id, expected_version),
                )
            return "ok" if cur.rowcount == 1 else self._why_not(conn, principal_id, item_id)

    @staticmethod
    def _why_not(conn: sqlite3.Connection, principal_id: str, item_id: str) -> WriteOutcome:
        # Same transaction as the failed write, so the answer is consistent with it.
        exists = conn.execute(
            "SELECT 1 FROM items WHERE principal_id = ? AND item_id = ?", (principal_id, item_id)
        ).fetchone()
        return "stale" if exists else "missing"

    def page(self, principal_id: str, *, order: Order, after_id: str | None, limit: int) -> StorePage:
        direction, compare = ("ASC", ">") if order == "oldest" else ("DESC", "<")
        where = "principal_id = ?"
        params: tuple[object, ...] = (principal_id,)
        if after_id is not None:
            where += f" AND item_id {compare} ?"
            params += (after_id,)
        # One extra row answers "is there a next page?" without another query.
        rows = self._read(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE {where} ORDER BY item_id {direction} LIMIT ?",
            (*params, limit + 1),
        )
        return StorePage(items=tuple(_item(row) for row in rows[:limit]), has_more=len(rows) > limit)

    def count(self, principal_id: str) -> int:
        rows = self._read("SELECT COUNT(*) FROM items WHERE principal_id = ?", (principal_id,))
        return int(rows[0][0])

    def close(self) -> None:
        self._pool.close()

    def open_connections(self) -> int:
        """Idle pooled connections (tests: the pool stays bounded)."""
        return self._pool.idle_connections()


def _row(item: Item) -> tuple[object, ...]:
    return (
        item.id,
        item.title,
        item.body,
        json.dumps(list(item.tags)),
        item.version,
        format_timestamp(item.created_at),
        format_timestamp(item.updated_at),
    )


def _item(row: tuple[Any, ...]) -> Item:
    item_id, title, body, tags, version, created_at, updated_at = row
    return Item(
        id=str(item_id),
        title=str(title),
        body=str(body),
        tags=tuple(json.loads(str(tags))),
        version=int(version),
        created_at=parse_timestamp(str(created_at)),
        updated_at=parse_timestamp(str(updated_at)),
    )

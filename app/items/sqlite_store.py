"""The embedded SQLite adapter: the store for local runs, no AWS needed.

Concurrency: a connection is leased to one thread for one operation and then
returned to a small pool (sqlite3 connections must not be shared across
threads mid-transaction; per-thread connections leaked one per call, because
each invocation under Mangum gets fresh worker threads), the database runs in WAL mode
so readers never block the writer, `busy_timeout` makes a second writer wait
instead of failing at once, and every read-modify-write runs inside
`BEGIN IMMEDIATE`, which takes the write lock up front so two writers can
never both read the old version. This holds across processes too (several
local server workers on one file).

Never use it on Lambda: a file in /tmp is per-instance memory, not state.
`ItemStoreSettings` refuses that combination.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from app.errors import StoreUnavailable
from app.items.model import Item, Order, format_timestamp, parse_timestamp
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
#: SQLite result codes that mean "someone else holds the lock; try again".
#: Matched by code (`sqlite_errorname`, Python 3.11+), never by message text.
_BUSY_CODES = frozenset({"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT", "SQLITE_LOCKED"})
_ITEM_COLUMNS = "item_id, title, body, tags, version, created_at, updated_at"


class SqliteItemStore:
    """`ItemStore` on one SQLite file, created (with its directory) on demand."""

    #: Idle connections kept for reuse; more concurrent operations open (and then close) extra ones.
    POOL_SIZE = 8

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as conn:
            # Statement by statement: executescript() would COMMIT our transaction.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; we say BEGIN ourselves.
        # check_same_thread=False: a pooled connection moves between threads,
        # but only between operations, never during one.
        # `timeout` is SQLite's busy_timeout: wait for a lock this long before SQLITE_BUSY.
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    @contextmanager
    def _lease(self) -> Iterator[sqlite3.Connection]:
        """One connection for one operation, from the pool (or new), returned afterwards."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        finally:
            if self._closed or self._idle.qsize() >= self.POOL_SIZE:
                conn.close()
            else:
                self._idle.put(conn)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with _busy_as_unavailable(), self._lease() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with _busy_as_unavailable(), self._lease() as conn:
            return conn.execute(sql, params).fetchall()

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
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def open_connections(self) -> int:
        """Idle pooled connections (tests: the pool stays bounded)."""
        return self._idle.qsize()


@contextmanager
def _busy_as_unavailable() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorname", None) in _BUSY_CODES:
            logger.warning("sqlite busy", extra={"sqlite_error": exc.sqlite_errorname})
            raise StoreUnavailable("the item store is busy; retry the same call in a moment") from exc
        raise


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

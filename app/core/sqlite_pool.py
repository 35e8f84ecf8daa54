"""Pooled SQLite connections for the embedded stores (items, tasks): local runs, no AWS.

A connection is leased to one thread for one operation and then returned to a
small pool: sqlite3 connections must not be shared across threads
mid-transaction, and per-thread connections leaked one per call (each
invocation under Mangum gets fresh worker threads). The database runs in WAL
mode so readers never block the writer; SQLite's busy timeout makes a second
writer wait instead of failing at once; `transaction()` takes the write lock
up front (`BEGIN IMMEDIATE`), so two writers can never both read the old
version. This holds across processes too (several local workers on one file).
A lock still held after the busy timeout becomes `StoreUnavailable` ("busy;
retry"), matched by SQLite's result code, never by message text.

Never on Lambda: a file in /tmp is one instance's memory, not state.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core.errors import StoreUnavailable

logger = logging.getLogger(__name__)

#: SQLite result codes that mean "someone else holds the lock; try again" (`sqlite_errorname`, 3.11+).
BUSY_CODES = frozenset({"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT", "SQLITE_LOCKED"})


class SqlitePool:
    """Connections to one SQLite file (created with its directory on demand), leased per operation."""

    #: Idle connections kept for reuse; more concurrent operations open (and then close) extra ones.
    POOL_SIZE = 8

    def __init__(self, path: Path, *, busy_message: str, busy_timeout_ms: int = 5000) -> None:
        self._path = path
        self._busy_message = busy_message
        self._busy_timeout_ms = busy_timeout_ms
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        path.parent.mkdir(parents=True, exist_ok=True)

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
    def lease(self) -> Iterator[sqlite3.Connection]:
        """One connection for one operation (autocommit statements), returned afterwards."""
        with self._busy_as_unavailable(), self._leased() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One connection inside `BEGIN IMMEDIATE`: committed on success, rolled back on any exception."""
        with self._busy_as_unavailable(), self._leased() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self.lease() as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def idle_connections(self) -> int:
        """Idle pooled connections (tests: the pool stays bounded)."""
        return self._idle.qsize()

    @contextmanager
    def _leased(self) -> Iterator[sqlite3.Connection]:
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
    def _busy_as_unavailable(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", None) in BUSY_CODES:
                logger.warning("sqlite busy", extra={"sqlite_error": exc.sqlite_errorname})
                raise StoreUnavailable(self._busy_message) from exc
            raise

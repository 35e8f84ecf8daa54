"""SQLite specifics the shared suite cannot see: WAL, locking, busy answers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.errors import StoreUnavailable
from app.items.model import Item
from app.items.sqlite_store import SqliteItemStore

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ITEM = Item(id="0" * 12 + "tok", title="t", body="", tags=(), version=1, created_at=NOW, updated_at=NOW)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "items.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteItemStore]:
    instance = SqliteItemStore(path, busy_timeout_ms=50)
    yield instance
    instance.close()


def test_the_database_runs_in_wal_mode(store: SqliteItemStore, path: Path) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_held_write_lock_answers_busy_and_writes_nothing(store: SqliteItemStore, path: Path) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process mid-write
    try:
        with pytest.raises(StoreUnavailable, match="retry"):
            store.create("alice", ITEM, None, NOW)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.get("alice", ITEM.id) is None
    assert store.create("alice", ITEM, None, NOW) is None, "the store recovers once the lock is gone"
    assert store.get("alice", ITEM.id) == ITEM


def test_readers_are_not_blocked_by_a_writer(store: SqliteItemStore, path: Path) -> None:
    store.create("alice", ITEM, None, NOW)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert store.get("alice", ITEM.id) == ITEM
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_two_stores_on_one_file_share_state(store: SqliteItemStore, path: Path) -> None:
    store.create("alice", ITEM, None, NOW)
    second = SqliteItemStore(path)
    try:
        assert second.get("alice", ITEM.id) == ITEM
    finally:
        second.close()


def test_fresh_threads_do_not_leak_connections(store: SqliteItemStore) -> None:
    """Regression: under Mangum every invocation's sync tool runs on a fresh worker thread;
    per-thread connections leaked two file handles per call until the process ran out."""
    import os
    import threading

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def one_call() -> None:
        store.count("p1")

    for _ in range(3):  # settle the pool
        one_call()
    before = open_fds()
    for _ in range(60):
        thread = threading.Thread(target=one_call)
        thread.start()
        thread.join()
    assert open_fds() <= before + 2
    assert store.open_connections() <= SqliteItemStore.POOL_SIZE

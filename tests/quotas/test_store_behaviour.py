"""The quota store contract, on SQLite and on DynamoDB (moto): counters stop at the limit, per principal,
per counter and per window; slot sets are compare-and-set; concurrent callers never exceed a limit."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.quotas.config import QuotaSettings
from app.quotas.model import QuotaExceeded, window_at
from app.quotas.port import QuotaStore
from app.quotas.service import QuotaService
from app.quotas.sqlite_store import SqliteQuotaStore

WINDOW = window_at(1_900_000_000, 60)


def test_counter_stops_at_the_limit_per_principal_counter_and_window(store: QuotaStore) -> None:
    assert [store.increment("alice", "tool_calls", WINDOW, 3) for _ in range(5)] == [True, True, True, False, False]
    assert store.increment("bob", "tool_calls", WINDOW, 3) is True
    assert store.increment("alice", "task_creations", WINDOW, 3) is True
    assert store.increment("alice", "tool_calls", window_at(WINDOW.resets_at, 60), 3) is True
    assert store.increment("alice", "tool_calls", WINDOW, 0) is False


def test_slots_are_compare_and_set(store: QuotaStore) -> None:
    assert store.read_slots("alice") == ({}, 0)
    assert store.write_slots("alice", {"t1": 10.0}, 0) is True
    assert store.write_slots("alice", {"t2": 10.0}, 0) is False  # someone else created it first
    slots, version = store.read_slots("alice")
    assert slots == {"t1": 10.0} and version == 1
    assert store.write_slots("alice", {"t1": 10.0, "t2": 11.0}, version) is True
    assert store.write_slots("alice", {}, version) is False  # stale
    assert store.read_slots("alice") == ({"t1": 10.0, "t2": 11.0}, 2)
    assert store.read_slots("bob") == ({}, 0)


def test_concurrent_counters_never_exceed_the_limit(store: QuotaStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.increment("alice", "tool_calls", WINDOW, 10), range(40)))
    assert results.count(True) == 10
    assert store.increment("alice", "tool_calls", WINDOW, 11) is True  # the counter stood at exactly 10


def test_concurrent_creators_never_exceed_the_working_cap(store: QuotaStore) -> None:
    service = QuotaService(store, QuotaSettings(working_tasks=5), clock=lambda: 1_900_000_000.0)

    def reserve(_: int) -> str | None:
        try:
            return service.reserve("alice")
        except QuotaExceeded as exc:
            assert exc.limit_name == "working_tasks" and exc.limit == 5 and exc.retry_after_s >= 1
            return None

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(reserve, range(24)))
    taken = [r for r in results if r is not None]
    assert len(taken) == 5
    assert len(store.read_slots("alice")[0]) == 5


def test_sqlite_drops_windows_that_are_over(tmp_path: Path) -> None:
    store = SqliteQuotaStore(tmp_path / "q.sqlite3")
    later = window_at(WINDOW.resets_at + 120, 60)
    store.increment("alice", "tool_calls", WINDOW, 5)
    store.increment("alice", "tool_calls", later, 5)
    with sqlite3.connect(tmp_path / "q.sqlite3") as conn:
        starts = [row[0] for row in conn.execute("SELECT window_start FROM quota_counters")]
    store.close()
    assert starts == [later.start]

"""A write whose answer was a timeout or "busy; retry" may still have committed (issue 20, item 5).

Through the product over loopback HTTP, on a real SQLite file. The timeout is made for real: another
connection holds SQLite's write lock longer than the request's deadline (`MCP_REQUEST_TIMEOUT_S`) but
shorter than the store's busy timeout, so the client gets `-32001` while the abandoned `items_add`
waits for the lock and then commits. The answer tells the agent to retry with the same
`idempotency_key`, and that retry returns the item that was written, not a second one. A repeated
`items_update` (same `expected_version`) returns the item with the change; a repeated `items_delete`
says the first call may have deleted it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.items.model import ITEM_STORE_BUSY
from tests.conftest import LiveServer, serve
from tests.rpc import mcp_request

KEY = "ambiguous-outcomes-dev-key-0123456789"
TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ambiguous") / "items.sqlite3"


@pytest.fixture(scope="module")
def live(db: Path) -> Iterator[LiveServer]:
    from app.main import build_product

    # Quotas off: their counters live in the same SQLite file, so the held write lock would stop the
    # call at its quota check, before the add this test is about (app.quotas has its own outage tests).
    env = {"MCP_DEV_API_KEY": KEY, "ITEMS_SQLITE_PATH": str(db), "MCP_REQUEST_TIMEOUT_S": str(TIMEOUT_S),
           "MCP_QUOTA_ENABLED": "false"}  # fmt: skip
    with serve(build_product(env).asgi_app()) as server:
        yield server


def call(url: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    headers, body = mcp_request(KEY, "2025-06-18", "tools/call", {"name": tool, "arguments": arguments})
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def count_titled(db: Path, title: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM items WHERE title = ?", (title,)).fetchone()[0])


def test_a_timed_out_add_that_committed_is_found_again_by_its_idempotency_key(live: LiveServer, db: Path) -> None:
    call(live.url, "items_list", {})  # the schema exists before the lock is taken
    title = "written after its request timed out"
    locked, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(10)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold_write_lock, daemon=True)
    holder.start()
    assert locked.wait(10)
    try:
        answer = call(live.url, "items_add", {"title": title, "idempotency_key": "ambiguous-1"})
    finally:
        time.sleep(TIMEOUT_S)  # the lock outlives the deadline, well within the store's busy timeout (5 s)
        release.set()
        holder.join(10)
    error = answer["error"]
    assert error["code"] == -32001
    assert "may still have taken effect" in error["message"] and "same idempotency_key" in error["message"]

    # The abandoned call committed once the lock was free: the "failed" add is in the store.
    deadline = time.monotonic() + 10  # a hang guard, not a timing assertion
    while count_titled(db, title) == 0:
        assert time.monotonic() < deadline, "the abandoned add never committed"
        time.sleep(0.05)
    # The retry the error asks for returns that item, and nothing is added twice.
    retried = call(live.url, "items_add", {"title": title, "idempotency_key": "ambiguous-1"})["result"]
    assert retried["isError"] is False
    assert retried["structuredContent"]["created"] is False
    assert count_titled(db, title) == 1


def test_a_repeated_update_returns_the_change_and_a_repeated_delete_says_it_may_be_done(live: LiveServer) -> None:
    added = call(live.url, "items_add", {"title": "draft", "idempotency_key": "ambiguous-2"})["result"]
    item_id = added["structuredContent"]["item"]["id"]
    first = call(live.url, "items_update", {"id": item_id, "expected_version": 1, "body": "final"})["result"]
    assert first["structuredContent"]["version"] == 2
    # The same call again, as after a timeout that hid the first one's success: no conflict, the change is in.
    again = call(live.url, "items_update", {"id": item_id, "expected_version": 1, "body": "final"})["result"]
    assert again["isError"] is False and again["structuredContent"]["version"] == 2
    assert again["structuredContent"]["body"] == "final"

    assert call(live.url, "items_delete", {"id": item_id})["result"]["isError"] is False
    repeated = call(live.url, "items_delete", {"id": item_id})["result"]
    assert repeated["isError"] is True
    assert repeated["content"][0]["text"].endswith(
        "not found; if an earlier items_delete of this id timed out or answered busy, that call deleted it"
    )


def test_the_busy_answer_names_the_retry_that_is_safe() -> None:
    assert "retry the same call" in ITEM_STORE_BUSY
    assert "same idempotency_key" in ITEM_STORE_BUSY and "same expected_version" in ITEM_STORE_BUSY

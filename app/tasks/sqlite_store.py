"""The embedded SQLite adapter: tasks for local runs (`make run`), no AWS needed.

Tasks live in their own table, `tasks`, in the same file as the items (the
local mirror of sharing the DynamoDB table). A row is the task's JSON document
plus the columns the conditions need: the compare-and-set is one
`UPDATE … WHERE version = ?` whose row count says whether it applied.

Connections, WAL mode and busy handling come from `app.core.sqlite_pool`, shared
with the item store (its docstring says why each is needed). Never use it on Lambda:
a file in /tmp is one instance's memory; `TaskSettings` refuses that.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from app.core.errors import Conflict
from app.core.sqlite_pool import SqlitePool
from app.tasks.model import TaskRecord, from_document, to_document

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    principal_id TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,   -- epoch seconds (created + ttl): purge after this
    doc          TEXT NOT NULL,      -- the TaskRecord as JSON (model.to_document)
    PRIMARY KEY (principal_id, task_id)
) WITHOUT ROWID
"""
_BUSY = "the task store is busy; retry the same call in a moment"


def _encode(record: TaskRecord) -> str:
    return json.dumps(to_document(record), separators=(",", ":"), ensure_ascii=False)


class SqliteTaskStore:
    """`TaskStore` on one SQLite file, created (with its directory) on demand."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self._pool = SqlitePool(path, busy_message=_BUSY, busy_timeout_ms=busy_timeout_ms)
        self._lease = self._pool.lease
        with self._lease() as conn:
            conn.execute(_SCHEMA)

    def create(self, record: TaskRecord) -> None:
        with self._lease() as conn:
            try:
                conn.execute(
                    "INSERT INTO tasks (principal_id, task_id, version, expires_at, doc) VALUES (?, ?, ?, ?, ?)",
                    (
                        record.principal_id,
                        record.task_id,
                        record.version,
                        int(record.expires_at.timestamp()),
                        _encode(record),
                    ),
                )
            except sqlite3.IntegrityError:
                raise Conflict("a task with this id already exists") from None

    def get(self, principal_id: str, task_id: str) -> TaskRecord | None:
        with self._lease() as conn:
            row = conn.execute(
                "SELECT doc FROM tasks WHERE principal_id = ? AND task_id = ?", (principal_id, task_id)
            ).fetchone()
        return None if row is None else from_document(json.loads(row[0]))

    def replace(self, record: TaskRecord, expected_version: int) -> bool:
        with self._lease() as conn:
            cur = conn.execute(
                "UPDATE tasks SET version = ?, doc = ? WHERE principal_id = ? AND task_id = ? AND version = ?",
                (record.version, _encode(record), record.principal_id, record.task_id, expected_version),
            )
            return cur.rowcount == 1

    def close(self) -> None:
        self._pool.close()

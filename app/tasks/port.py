"""The task storage port: a put-if-absent, a consistent read and a compare-and-set.

Two adapters implement it: `sqlite_store.SqliteTaskStore` (local) and
`dynamo_store.DynamoTaskStore` (Lambda). Both run the same behaviour suite
(`tests/tasks/test_store_behaviour.py`), which is the real contract.

Rules every adapter keeps:
- A task is addressed by (principal id, task id): another principal's task is
  unreachable by construction, whatever id is given.
- `get` is strongly consistent: a task written by `create` on one instance is
  read by `get` on any other right after ("durable before reply").
- `replace` writes only if the stored version is still `expected_version`; the
  state machine in `model.py` computes every transition from the version it
  read, so this one condition guards every transition.
- Throttling or a briefly unreachable backend raises `StoreUnavailable`.
- Methods are blocking; async callers run them off the event loop.
"""

from __future__ import annotations

from typing import Protocol

from app.tasks.model import TaskRecord


class TaskStore(Protocol):
    def create(self, record: TaskRecord) -> None:
        """Write a new task. Raises `Conflict` if the id is taken (never overwrites)."""
        ...

    def get(self, principal_id: str, task_id: str) -> TaskRecord | None:
        """The task, read strongly consistent, or None."""
        ...

    def replace(self, record: TaskRecord, expected_version: int) -> bool:
        """Overwrite the task if it is stored at `expected_version`; False (nothing written) otherwise."""
        ...

    def close(self) -> None:
        """Release connections. The store is unusable afterwards."""
        ...

"""A task worker in a process of its own (run by tests/tasks/test_worker_killed.py, which SIGKILLs it).

Usage: python -m tests.tasks.worker_process <sqlite path> <task-run event JSON>

It builds what the worker Lambda function builds, over the shared SQLite file: the task runtime,
the conformance fixture's server (which has `slow_compute`), and the worker's Lambda handler, then
feeds it the event, exactly as Lambda would deliver the asynchronous invoke.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.tasks.config import TaskSettings
from app.tasks.sqlite_store import SqliteTaskStore
from app.tasks.factory import build_task_runtime
from app.tasks.worker import LambdaTaskWorker
from tests.fixtures.everything import build


def main(argv: list[str]) -> int:
    path, event = Path(argv[0]), json.loads(argv[1])
    runtime = build_task_runtime(TaskSettings(is_worker=True), SqliteTaskStore(path))
    build(runtime)  # attaches the executor to the fixture server
    assert runtime.executor is not None
    outcome = LambdaTaskWorker(runtime.executor)(event, None)
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make run`'s task runtime in a process of its own (run by tests/tasks/test_worker_killed.py, which SIGKILLs it).

Usage: python -m tests.tasks.local_pool_process <sqlite path> <port>

Builds what a local run builds for tasks, with one pool slot: the task runtime over the SQLite
file with its in-process `LocalWorkerPool`, the conformance fixture's server (which has
`slow_compute`), and the product's ASGI app, served by uvicorn on 127.0.0.1:<port>.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from app.tasks.config import TaskSettings
from app.tasks.sqlite_store import SqliteTaskStore
from app.tasks.factory import build_task_runtime
from app.transport.asgi import create_asgi_app
from tests.fixtures.everything import build

#: One slot, so a second task waits queued; heartbeats every second, so a renewal is seen quickly.
SETTINGS = TaskSettings(local_workers=1, lease_s=30.0, heartbeat_s=1.0)


def main(argv: list[str]) -> int:
    path, port = Path(argv[0]), int(argv[1])
    runtime = build_task_runtime(SETTINGS, SqliteTaskStore(path))
    app = create_asgi_app(build(runtime))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

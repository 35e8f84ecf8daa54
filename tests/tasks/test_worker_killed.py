"""A worker killed mid-task (SIGKILL: no handler, no cleanup, as a Lambda timeout or an out-of-memory
kill) leaves a task that reads `working` while its lease lasts and `failed`, with the lapse message,
once it lapses: never `working` forever. The worker is a real process over the shared SQLite file,
running the worker's Lambda handler on the task-run event; the lapse is observed with a clock moved
past the lease, not by sleeping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from app.tasks.dispatch import TaskEvent
from app.tasks.extension import ANONYMOUS
from app.tasks.model import LAPSED_MESSAGE, utcnow
from app.tasks.service import TaskService, TaskTimings
from app.tasks.sqlite_store import SqliteTaskStore

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 30.0  # the worker's default lease (TaskSettings), which its process renews every 5 s


def test_a_worker_killed_mid_task_leaves_a_task_that_lapses_to_failed(tmp_path: Path) -> None:
    path = tmp_path / "items.sqlite3"
    offset = timedelta(0)

    def clock() -> datetime:
        return utcnow() + offset

    service = TaskService(SqliteTaskStore(path), TaskTimings(lease_s=LEASE_S), clock=clock)
    record = service.create(
        ANONYMOUS, "slow_compute", {"seconds": 600, "label": "killed"}, {"protocolVersion": "2026-07-28", "clientCapabilities": {}}
    )
    event = TaskEvent(record.task_id, ANONYMOUS.principal_id, record.run).payload()
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.tasks.worker_process", str(path), json.dumps(event)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
        while (claimed := service.get(ANONYMOUS.principal_id, record.task_id)).status_message != "running":
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, f"the worker never claimed the task: {claimed}"
            time.sleep(0.05)
        assert claimed.claimed_run == record.run and claimed.lease_until is not None
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    assert worker.stdout is not None and worker.stdout.read() == b""  # it never got to write an outcome

    # Right after the kill the lease still runs: the task is (as far as anyone can tell) working.
    assert service.get(ANONYMOUS.principal_id, record.task_id).status == "working"
    # Once the lease has lapsed, any reader sees `failed`, and that is recorded for good.
    offset = timedelta(seconds=LEASE_S + 1)
    lapsed = service.get(ANONYMOUS.principal_id, record.task_id)
    assert lapsed.status == "failed"
    assert lapsed.status_message == LAPSED_MESSAGE and lapsed.error is not None
    offset = timedelta(0)
    assert service.get(ANONYMOUS.principal_id, record.task_id).status == "failed"
    assert service.cancel(ANONYMOUS.principal_id, record.task_id).status == "failed"  # terminal: cancel is a no-op

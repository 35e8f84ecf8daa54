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
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from app.core.events import MODERN_VERSION
from app.tasks.dispatch import TaskEvent
from app.tasks.extension import ANONYMOUS
from app.tasks.model import LAPSED_MESSAGE, NOT_STARTED_MESSAGE, utcnow
from app.tasks.service import TaskService, TaskTimings
from app.tasks.sqlite_store import SqliteTaskStore
from tests.rpc import mcp_request, result_of

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _create_task(url: str, label: str) -> str:
    headers, body = mcp_request(
        "unused", MODERN_VERSION, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 600, "label": label}},
        capabilities={"extensions": {"io.modelcontextprotocol/tasks": {}}},
    )  # fmt: skip
    created = result_of(httpx.post(url, json=body, headers=headers, timeout=30))
    assert created["resultType"] == "task" and created["status"] == "working", created
    return str(created["taskId"])


def test_a_local_process_killed_with_a_queued_task_fails_it_as_fast_as_the_running_one(tmp_path: Path) -> None:
    """Issue 20, item 2: `make run`'s in-process pool, one slot, two tasks created over HTTP: one runs,
    one waits queued. Before: the queued task's window was `TASKS_DISPATCH_TIMEOUT_S` (300 s), so after
    the process died it read `working` for 298 s and then failed with "the work may have been partly
    done". Now the pool renews the window of what it holds queued, the window is one lease (30 s), and
    the queued task fails with the running one, saying it never started."""
    path = tmp_path / "items.sqlite3"
    port = _free_port()
    offset = timedelta(0)

    def clock() -> datetime:
        return utcnow() + offset

    service = TaskService(SqliteTaskStore(path), TaskTimings(lease_s=LEASE_S), clock=clock)
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.tasks.local_pool_process", str(path), str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60  # hang guards, not timing assertions
        while True:
            assert server.poll() is None, server.communicate()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the local server never started"
                time.sleep(0.05)
        running_id, queued_id = _create_task(url, "running"), _create_task(url, "queued")
        while service.get(ANONYMOUS.principal_id, running_id).status_message != "running":
            assert time.monotonic() < deadline, "the pool never started the first task"
            time.sleep(0.05)
        queued = service.get(ANONYMOUS.principal_id, queued_id)
        assert queued.status_message == "queued" and queued.claimed_run == 0
        # Its window is one lease, not the 300 s dispatch timeout, and the live pool keeps renewing it.
        assert queued.lease_until is not None and queued.lease_until - queued.created_at <= timedelta(seconds=LEASE_S)
        while (renewed := service.get(ANONYMOUS.principal_id, queued_id)).version == queued.version:
            assert time.monotonic() < deadline, "the pool never renewed the queued task's window"
            time.sleep(0.1)
        assert renewed.lease_until is not None and renewed.lease_until > queued.lease_until
        assert renewed.status == "working" and renewed.claimed_run == 0
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    assert server.returncode == -signal.SIGKILL

    # Right after the kill both still read working; one lease (plus a renewal period) later, both failed.
    assert service.get(ANONYMOUS.principal_id, queued_id).status == "working"
    offset = timedelta(seconds=LEASE_S + 1 + 1)
    ran, never_ran = service.get(ANONYMOUS.principal_id, running_id), service.get(ANONYMOUS.principal_id, queued_id)
    assert ran.status == "failed" and ran.status_message == LAPSED_MESSAGE
    assert never_ran.status == "failed" and never_ran.status_message == NOT_STARTED_MESSAGE
    assert never_ran.error == {"code": -32603, "message": NOT_STARTED_MESSAGE}
    assert "never started" in NOT_STARTED_MESSAGE and "partly" not in NOT_STARTED_MESSAGE

"""Quota use cases with a real task store behind the working-task cap (SQLite), and the outage policy
through the real DynamoDB adapter pointed at a closed loopback port."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import NotFound, StoreUnavailable
from app.quotas.config import QuotaSettings
from app.quotas.dynamo_store import DynamoQuotaStore
from app.quotas.model import RESERVATION_S, QuotaExceeded
from app.quotas.service import QuotaService
from app.quotas.sqlite_store import SqliteQuotaStore
from app.tasks.model import Owner
from app.tasks.service import TaskService, TaskTimings
from app.tasks.sqlite_store import SqliteTaskStore
from tests.fixtures.backends import fault_client
from tests.items.conftest import FakeClock

ALICE = Owner(principal_id="alice", kind="api_key")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tasks(tmp_path: Path, clock: FakeClock) -> TaskService:
    return TaskService(SqliteTaskStore(tmp_path / "db.sqlite3"), TaskTimings(dispatch_s=60, lease_s=30), clock=clock)


@pytest.fixture
def quotas(tmp_path: Path, clock: FakeClock, tasks: TaskService) -> QuotaService:
    def working(principal_id: str, task_id: str) -> bool:
        try:
            return not tasks.get(principal_id, task_id).terminal
        except NotFound:
            return False

    settings = QuotaSettings(window_s=60, tool_calls=3, task_creations=2, tool_overrides={"items_export": 1}, working_tasks=2)
    return QuotaService(SqliteQuotaStore(tmp_path / "db.sqlite3"), settings, working=working, clock=clock.timestamp)


def _start(quotas: QuotaService, tasks: TaskService, clock: FakeClock) -> str:
    reservation = quotas.reserve("alice")
    record = tasks.create(ALICE, "items_export", {}, {})
    quotas.bind("alice", reservation, record.task_id, clock.timestamp() + 3600)
    return record.task_id


def test_window_refusal_says_which_limit_and_when_it_resets(quotas: QuotaService, clock: FakeClock) -> None:
    clock.advance(seconds=15)  # 15 s into a 60 s window
    for _ in range(3):
        quotas.check_call("alice", "echo")
    with pytest.raises(QuotaExceeded) as refused:
        quotas.check_call("alice", "echo")
    assert refused.value.limit_name == "tool_calls" and refused.value.limit == 3
    assert refused.value.retry_after_s == 45
    assert refused.value.data()["resets_at"] == "2030-01-01T00:01:00Z"
    assert "tool calls per window (limit 3); retry after 45 s" in refused.value.message
    quotas.check_call("bob", "echo")  # another principal is unaffected
    clock.advance(seconds=45)
    quotas.check_call("alice", "echo")  # a new window


def test_per_tool_override(quotas: QuotaService) -> None:
    quotas.check_call("alice", "items_export")
    with pytest.raises(QuotaExceeded) as refused:
        quotas.check_call("alice", "items_export")
    assert refused.value.tool == "items_export" and refused.value.limit == 1
    quotas.check_call("alice", "echo")  # the override is the tool's own; other tools still pass


def test_task_creations_counted_separately(quotas: QuotaService) -> None:
    quotas.check_creation("alice")
    quotas.check_creation("alice")
    with pytest.raises(QuotaExceeded) as refused:
        quotas.check_creation("alice")
    assert refused.value.limit_name == "task_creations"


def test_slot_comes_back_on_every_terminal_transition_and_on_lapse(
    quotas: QuotaService, tasks: TaskService, clock: FakeClock
) -> None:
    first, second = _start(quotas, tasks, clock), _start(quotas, tasks, clock)
    with pytest.raises(QuotaExceeded) as refused:
        quotas.reserve("alice")
    assert refused.value.limit_name == "working_tasks" and refused.value.limit == 2
    tasks.cancel("alice", first)  # cancelled: nobody released the slot, the task store says it is free
    third = _start(quotas, tasks, clock)
    claimed = tasks.claim("alice", second, 1)
    assert claimed is not None
    tasks.complete("alice", second, 1, {"content": []})  # completed by a worker elsewhere
    fourth = _start(quotas, tasks, clock)
    with pytest.raises(QuotaExceeded):
        quotas.reserve("alice")
    clock.advance(seconds=61)  # neither run was claimed within dispatch_s: both lapse (a dead worker)
    _start(quotas, tasks, clock)
    _start(quotas, tasks, clock)
    assert tasks.get("alice", third).status == "failed" and tasks.get("alice", fourth).status == "failed"


def test_a_creator_that_died_before_binding_gives_its_reservation_back(quotas: QuotaService, clock: FakeClock) -> None:
    quotas.reserve("alice")
    quotas.reserve("alice")  # both creators die: nothing binds or releases
    with pytest.raises(QuotaExceeded):
        quotas.reserve("alice")
    clock.advance(seconds=RESERVATION_S + 1)
    quotas.reserve("alice")


def test_outage_fails_open_for_windows_and_closed_for_the_working_cap() -> None:
    client = fault_client("http://127.0.0.1:9")  # nothing listens: connection refused
    quotas = QuotaService(DynamoQuotaStore(client, "items"), QuotaSettings(tool_calls=1))
    quotas.check_call("alice", "echo")
    quotas.check_call("alice", "echo")  # over a limit of 1, let through: the outage fails open
    quotas.check_creation("alice")
    with pytest.raises(StoreUnavailable):
        quotas.reserve("alice")

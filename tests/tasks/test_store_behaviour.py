"""The task store's contract, run against SQLite and DynamoDB (moto) alike,
through the service that drives the status machine."""

from __future__ import annotations

import json

import pytest

from app.core.errors import Conflict, NotFound
from app.tasks import model
from app.tasks.model import Owner, Progress
from app.tasks.port import TaskStore
from app.tasks.service import TaskService

ALICE = Owner(principal_id="alice", kind="api_key", name="Alice", scopes=("mcp:tools",))
BOB = Owner(principal_id="bob", kind="api_key", name="Bob")
CLIENT = {"protocolVersion": "2026-07-28", "clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}


def _create(service: TaskService, owner: Owner = ALICE, tool: str = "slow_compute") -> model.TaskRecord:
    return service.create(owner, tool, {"seconds": 1, "label": "ü"}, CLIENT)


def test_a_created_task_is_read_back_whole_by_a_consistent_read(service: TaskService, store: TaskStore) -> None:
    created = _create(service)
    read = store.get("alice", created.task_id)
    assert read == created
    assert read is not None and read.owner.scopes == ("mcp:tools",) and read.arguments["label"] == "ü"
    assert read.status == "working" and read.tool_name == "slow_compute"


def test_another_principals_task_reads_exactly_like_an_unknown_one(service: TaskService) -> None:
    created = _create(service)
    with pytest.raises(NotFound) as foreign:
        service.get("bob", created.task_id)
    with pytest.raises(NotFound) as unknown:
        service.get("bob", "no-such-task")
    assert str(foreign.value) == str(unknown.value)
    with pytest.raises(NotFound):
        service.cancel("bob", created.task_id)
    assert service.get("alice", created.task_id).status == "working"


def test_task_ids_are_long_random_and_distinct(service: TaskService) -> None:
    ids = {_create(service).task_id for _ in range(20)}
    assert len(ids) == 20
    assert all(len(task_id) >= 43 for task_id in ids)  # 32 random bytes, URL-safe base64


def test_creating_an_existing_id_never_overwrites(store: TaskStore, clock, timings) -> None:
    service = TaskService(store, timings, clock=clock, new_id=lambda: "fixed-id")
    first = _create(service)
    with pytest.raises(Conflict):
        _create(service, tool="another")
    assert store.get("alice", "fixed-id") == first


def test_replace_is_a_compare_and_set_on_the_version(service: TaskService, store: TaskStore, clock) -> None:
    created = _create(service)
    claimed = model.claim(created, 1, clock(), 30)
    assert claimed is not None
    assert store.replace(claimed, created.version)
    assert not store.replace(model.cancel(created, clock()), created.version)  # computed from a stale read
    assert store.get("alice", created.task_id) == claimed


def test_run_to_completion_with_progress(service: TaskService, clock) -> None:
    task = _create(service)
    assert service.claim("alice", task.task_id, 1) is not None
    clock.advance(seconds=5)
    assert service.heartbeat("alice", task.task_id, 1, Progress(3, 10, "rows"))
    seen = service.get("alice", task.task_id)
    assert seen.progress == Progress(3, 10, "rows") and seen.status_message == "3/10: rows"
    result = {"content": [{"type": "text", "text": "done"}], "isError": False}
    assert service.complete("alice", task.task_id, 1, result)
    done = service.get("alice", task.task_id)
    assert done.status == "completed" and done.result == result and done.lease_until is None


def test_an_is_error_result_is_completed_not_failed(service: TaskService) -> None:
    task = _create(service)
    service.claim("alice", task.task_id, 1)
    service.complete("alice", task.task_id, 1, {"content": [{"type": "text", "text": "no"}], "isError": True})
    assert service.get("alice", task.task_id).status == "completed"


def test_a_duplicate_delivery_claims_nothing(service: TaskService) -> None:
    task = _create(service)
    assert service.claim("alice", task.task_id, 1) is not None
    assert service.claim("alice", task.task_id, 1) is None
    assert service.claim("alice", task.task_id, 2) is None  # a run that was never dispatched


def test_a_late_result_never_overwrites_cancelled(service: TaskService) -> None:
    task = _create(service)
    service.claim("alice", task.task_id, 1)
    service.cancel("alice", task.task_id)
    assert not service.heartbeat("alice", task.task_id, 1)  # the worker learns it must stop
    assert not service.complete("alice", task.task_id, 1, {"content": [], "isError": False})
    assert not service.fail("alice", task.task_id, 1, {"code": -32603, "message": "x"})
    final = service.get("alice", task.task_id)
    assert final.status == "cancelled" and final.result is None and final.error is None


def test_cancel_is_idempotent_on_terminal_tasks(service: TaskService) -> None:
    task = _create(service)
    service.claim("alice", task.task_id, 1)
    service.complete("alice", task.task_id, 1, {"content": [], "isError": False})
    before = service.get("alice", task.task_id)
    after = service.cancel("alice", task.task_id)
    assert after == before and after.status == "completed"
    cancelled = _create(service)
    service.cancel("alice", cancelled.task_id)
    again = service.cancel("alice", cancelled.task_id)
    assert again.status == "cancelled" and again.version == service.get("alice", cancelled.task_id).version


def test_a_lapsed_lease_reads_as_failed_and_stays_failed(service: TaskService, clock) -> None:
    task = _create(service)
    service.claim("alice", task.task_id, 1)
    clock.advance(seconds=31)  # the worker died: no heartbeat within the lease
    seen = service.get("alice", task.task_id)
    assert seen.status == "failed" and seen.error is not None and "lease lapsed" in seen.error["message"]
    assert not service.complete("alice", task.task_id, 1, {"content": [], "isError": False})
    assert service.get("alice", task.task_id).status == "failed"


def test_an_unclaimed_task_lapses_after_the_dispatch_window(service: TaskService, clock) -> None:
    task = _create(service)
    clock.advance(seconds=59)
    assert service.get("alice", task.task_id).status == "working"
    clock.advance(seconds=2)
    assert service.get("alice", task.task_id).status == "failed"
    assert service.claim("alice", task.task_id, 1) is None


def test_input_required_then_partial_and_full_answers(service: TaskService) -> None:
    task = _create(service, tool="multi_input")
    service.claim("alice", task.task_id, 1)
    asks = {"a": {"method": "elicitation/create", "params": {}}, "b": {"method": "elicitation/create", "params": {}}}
    assert service.need_input("alice", task.task_id, 1, asks, "sealed-state")
    waiting = service.get("alice", task.task_id)
    assert waiting.status == "input_required" and set(waiting.input_requests or {}) == {"a", "b"}
    assert waiting.lease_until is None  # waiting for a person never lapses
    assert not service.update("alice", task.task_id, {"unknown": {"x": 1}})  # ignored
    assert not service.update("alice", task.task_id, {"a": {"action": "accept", "content": {"name": "x"}}})
    partial = service.get("alice", task.task_id)
    assert partial.status == "input_required" and set(partial.input_requests or {}) == {"b"}
    assert service.update("alice", task.task_id, {"b": {"action": "decline"}, "a": {"action": "cancel"}})
    resumed = service.get("alice", task.task_id)
    assert resumed.status == "working" and resumed.run == 2 and resumed.request_state == "sealed-state"
    assert resumed.input_responses == {"a": {"action": "accept", "content": {"name": "x"}}, "b": {"action": "decline"}}
    assert service.claim("alice", task.task_id, 1) is None  # the old run is gone
    assert service.claim("alice", task.task_id, 2) is not None


def test_an_expired_task_reads_as_unknown(service: TaskService, clock, timings) -> None:
    task = _create(service)
    clock.advance(milliseconds=timings.ttl_ms - 1)
    service.get("alice", task.task_id)
    clock.advance(milliseconds=1)
    with pytest.raises(NotFound):
        service.get("alice", task.task_id)


def test_the_stored_document_is_plain_json(service: TaskService, store: TaskStore) -> None:
    task = _create(service)
    assert json.loads(json.dumps(model.to_document(task))) == model.to_document(task)
    assert model.from_document(model.to_document(task)) == task

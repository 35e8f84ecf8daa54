"""A bounded worker (issue 16, item 2): what a task becomes when its run cannot start.

The worker function has a reserved concurrency (template parameter
WorkerReservedConcurrency). Two things can then happen to a run, and both must end
in a terminal state that says what happened:

- Lambda refuses the asynchronous invoke for capacity (`TooManyRequestsException`,
  after botocore's retries): the task fails at once, "never started ... concurrency
  limit ... call the tool again in a minute".
- Lambda accepts the event but it waits in the queue past its maximum event age (=
  the dispatch window) and is dropped: the task reads `failed`, "never started", once
  the window lapses; and should a late copy of the event still arrive, it claims nothing.

The API path is the real ASGI app (2026-07-28, tasks declared) over SQLite, with a
real boto3 Lambda client whose invoke answer comes from botocore's Stubber.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from app.core.principal import LOCAL_DEVELOPER, bound_principal
from app.tasks.config import TaskSettings
from app.tasks.model import DISPATCH_THROTTLED_MESSAGE, NOT_STARTED_MESSAGE
from app.tasks.worker import LambdaTaskWorker

from .test_lambda_worker import CapturingLambda, Context, _call, _instance


def _export(app: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        with bound_principal(LOCAL_DEVELOPER):
            response = await _call(app, "tools/call", {"name": "items_export", "arguments": {}}, name="items_export")
        assert response.status_code == 200, response.text
        return response.json()["result"]

    return asyncio.run(go())


def _get(app: Any, task_id: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        with bound_principal(LOCAL_DEVELOPER):
            return (await _call(app, "tasks/get", {"taskId": task_id}, name=task_id)).json()["result"]

    return asyncio.run(go())


def test_a_throttled_dispatch_fails_the_task_at_once_saying_the_worker_is_at_its_limit(
    tmp_path: Path, caplog: Any
) -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    app, _ = _instance(tmp_path / "items.sqlite3", client)  # type: ignore[arg-type]
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke", service_error_code="TooManyRequestsException", service_message="Rate Exceeded.", http_status_code=429
        )
        with caplog.at_level(logging.WARNING):
            created = _export(app)
        stub.assert_no_pending_responses()
    assert created["resultType"] == "task" and created["status"] == "failed"
    seen = _get(app, created["taskId"])
    assert seen["status"] == "failed"
    assert seen["error"]["message"] == DISPATCH_THROTTLED_MESSAGE
    assert "concurrency limit" in seen["statusMessage"] and "never started" in seen["statusMessage"]
    throttled = [r for r in caplog.records if "throttled" in r.getMessage()]
    assert [r.levelname for r in throttled] == ["WARNING"] and not throttled[0].exc_info  # capacity, not a crash


def test_another_invoke_failure_keeps_the_generic_message(tmp_path: Path) -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    app, _ = _instance(tmp_path / "items.sqlite3", client)  # type: ignore[arg-type]
    with Stubber(client) as stub:
        stub.add_client_error("invoke", service_error_code="ResourceNotFoundException", http_status_code=404)
        created = _export(app)
    seen = _get(app, created["taskId"])
    assert seen["status"] == "failed" and "could not be handed to a worker" in seen["error"]["message"]


def test_an_event_that_expires_in_the_queue_leaves_a_task_that_never_started(tmp_path: Path) -> None:
    db = tmp_path / "items.sqlite3"
    queued = CapturingLambda()  # Lambda accepted the event (202) and never delivers it
    settings = TaskSettings(worker_function="mcp-lambda-TaskWorker", dispatch_timeout_s=1, heartbeat_s=0.2, lease_s=5)
    app, runtime = _instance(db, queued, settings=settings)
    created = _export(app)
    assert created["status"] == "working"
    time.sleep(1.3)  # past the dispatch window = the worker's maximum event age
    seen = _get(app, created["taskId"])
    assert seen["status"] == "failed" and seen["error"]["message"] == NOT_STARTED_MESSAGE
    # A late copy of the event (had Lambda delivered it after all) claims nothing and changes nothing.
    [request] = queued.requests
    worker = LambdaTaskWorker(runtime.executor)  # type: ignore[arg-type]
    assert worker(json.loads(request["Payload"]), Context()) == {"outcome": "skipped"}
    assert _get(app, created["taskId"])["error"]["message"] == NOT_STARTED_MESSAGE

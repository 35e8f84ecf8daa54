"""The Lambda path of a task: the asynchronous invoke's exact request, the worker handler fed that
event (twice: a duplicate delivery runs nothing), two instances sharing one store, and the
product's items_export tool run as a task with progress.

HTTP goes through the real ASGI app (httpx's ASGI transport) as 2026-07-28 JSON-RPC.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import Stubber

from app import Settings, create_asgi_app
from app.items.config import ItemStoreSettings
from app.items.factory import build_item_service
from app.core.principal import LOCAL_DEVELOPER, bound_principal
from app.server import build_server
from app.tasks.config import TaskSettings
from app.tasks.dispatch import LambdaInvoker, TaskEvent
from app.tasks.sqlite_store import SqliteTaskStore
from app.tasks.factory import TaskRuntime, build_task_runtime
from app.tasks.worker import LambdaTaskWorker

TASKS = "io.modelcontextprotocol/tasks"
SETTINGS = Settings(allowed_hosts=("testserver",))


class CapturingLambda:
    """Records each invoke request instead of sending it (the test delivers the payload itself)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"StatusCode": 202}


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_the_api_function_invokes_the_worker_asynchronously_with_only_ids() -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    event = TaskEvent(task_id="t" * 43, principal_id="alice", run=1)
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": "mcp-lambda-TaskWorker",
                "InvocationType": "Event",
                "Payload": b'{"kind":"mcp-lambda/task-run","v":1,"taskId":"' + b"t" * 43
                + b'","principalId":"alice","run":1}',
            },
        )
        LambdaInvoker(client, "mcp-lambda-TaskWorker").dispatch(event)
        stub.assert_no_pending_responses()


def _instance(db: Path, lambda_client: CapturingLambda, settings: TaskSettings | None = None) -> tuple[Any, TaskRuntime]:
    """One 'API function instance': its own server and runtime over the shared store file."""
    items = ItemStoreSettings(sqlite_path=db)
    settings = settings or TaskSettings(worker_function="mcp-lambda-TaskWorker", heartbeat_s=0.2, lease_s=5)
    runtime = build_task_runtime(settings, SqliteTaskStore(db), lambda_client=lambda_client)  # type: ignore[arg-type]
    server = build_server(item_service=build_item_service(items), tasks=runtime)
    return create_asgi_app(server, SETTINGS), runtime


def _rpc(method: str, params: dict[str, Any], *, tasks: bool = True, name: str | None = None) -> tuple[dict, dict]:
    caps: dict[str, Any] = {"extensions": {TASKS: {}}} if tasks else {}
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": caps}
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": method,
    }
    if name is not None:
        headers["mcp-name"] = name
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}}, headers


async def _call(app: Any, method: str, params: dict[str, Any], **kw: Any) -> httpx.Response:
    body, headers = _rpc(method, params, **kw)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        return await http.post("/mcp", json=body, headers=headers)


def test_worker_runs_the_exact_event_once_and_any_instance_reads_the_outcome(tmp_path: Path) -> None:
    db = tmp_path / "items.sqlite3"
    lambda_a, lambda_b = CapturingLambda(), CapturingLambda()
    app_a, runtime_a = _instance(db, lambda_a)
    app_b, _ = _instance(db, lambda_b)
    items = build_item_service(ItemStoreSettings(sqlite_path=db))
    for title in ("one", "two", "three"):
        items.add(LOCAL_DEVELOPER, title=title, body="b", tags=[])
        time.sleep(0.003)  # creation times are kept to the millisecond: "oldest first" needs distinct ones

    async def scenario() -> None:
        with bound_principal(LOCAL_DEVELOPER):
            created = (
                await _call(app_a, "tools/call", {"name": "items_export", "arguments": {"page_size": 1}}, name="items_export")
            ).json()["result"]
            assert created["resultType"] == "task" and created["status"] == "working"
            task_id = created["taskId"]
            # Durable before reply: another instance finds it at once.
            seen = (await _call(app_b, "tasks/get", {"taskId": task_id}, name=task_id)).json()["result"]
            assert seen["taskId"] == task_id and seen["status"] == "working"
            # Exactly one asynchronous invoke, carrying ids only.
            [request] = lambda_a.requests
            assert request["InvocationType"] == "Event" and request["FunctionName"] == "mcp-lambda-TaskWorker"
            payload = json.loads(request["Payload"])
            assert payload == {"kind": "mcp-lambda/task-run", "v": 1, "taskId": task_id,
                               "principalId": LOCAL_DEVELOPER.id, "run": 1}
        worker = LambdaTaskWorker(runtime_a.executor)  # type: ignore[arg-type]
        assert await asyncio.to_thread(worker, payload, Context()) == {"outcome": "completed"}
        assert await asyncio.to_thread(worker, payload, Context()) == {"outcome": "skipped"}  # duplicate delivery
        with bound_principal(LOCAL_DEVELOPER):
            done = (await _call(app_b, "tasks/get", {"taskId": task_id}, name=task_id)).json()["result"]
        assert done["status"] == "completed"
        assert done["result"]["structuredContent"] == {"count": 3, "total": 3, "truncated": False,
                                                       "uri": "items://export.json"}
        exported = json.loads(done["result"]["content"][1]["resource"]["text"])
        assert [item["title"] for item in exported["items"]] == ["one", "two", "three"]

    asyncio.run(scenario())


def test_tasks_methods_check_the_routing_header_and_the_declared_extension(tmp_path: Path) -> None:
    app, _ = _instance(tmp_path / "items.sqlite3", CapturingLambda())

    async def scenario() -> None:
        with bound_principal(LOCAL_DEVELOPER):
            wrong = await _call(app, "tasks/get", {"taskId": "abc"}, name="other")
            assert wrong.status_code == 400 and wrong.json()["error"]["code"] == -32020
            assert "Mcp-Name header 'other' does not match params.taskId 'abc'" in wrong.json()["error"]["message"]
            # A missing Mcp-Name is accepted (issue 17: fastmcp-tasks sends none): the body's taskId decides.
            missing = await _call(app, "tasks/get", {"taskId": "abc"})
            assert missing.status_code == 400 and missing.json()["error"]["code"] == -32602  # unknown task
            undeclared = await _call(app, "tasks/get", {"taskId": "abc"}, tasks=False, name="abc")
            assert undeclared.json()["error"]["code"] == -32021
            unknown = await _call(app, "tasks/get", {"taskId": "abc"}, name="abc")
            assert unknown.json()["error"]["code"] == -32602
            # Without the extension the same tool answers synchronously (optional task support).
            sync = (await _call(app, "tools/call", {"name": "items_export", "arguments": {}}, tasks=False,
                                name="items_export")).json()["result"]
            assert sync["resultType"] == "complete" and sync["structuredContent"]["count"] == 0

    asyncio.run(scenario())


def test_an_invalid_worker_event_is_dropped_not_retried(tmp_path: Path) -> None:
    _, runtime = _instance(tmp_path / "items.sqlite3", CapturingLambda())
    worker = LambdaTaskWorker(runtime.executor)  # type: ignore[arg-type]
    assert worker({"hello": "world"}, Context()) == {"outcome": "invalid"}
    assert worker({"kind": "mcp-lambda/task-run", "v": 1, "taskId": "x", "principalId": "p", "run": 0},
                  Context()) == {"outcome": "invalid"}


@pytest.mark.parametrize("run", [1])
def test_a_run_for_a_task_nobody_created_claims_nothing(tmp_path: Path, run: int) -> None:
    _, runtime = _instance(tmp_path / "items.sqlite3", CapturingLambda())
    worker = LambdaTaskWorker(runtime.executor)  # type: ignore[arg-type]
    event = TaskEvent("no-such-task", "alice", run).payload()
    assert worker(event, Context()) == {"outcome": "skipped"}

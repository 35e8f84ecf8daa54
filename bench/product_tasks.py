"""Long-running tools (MCP Tasks) through the product's Lambda handler on SQLite: case `tasks-sqlite`.

Task creation and tasks/get beside plain tools/calls, the worker function's invoke answered in-process.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from bench import aws, events
from bench.cases import Case, Probe, register
from bench.product_items import ITEM_TITLE, check_item
from bench.product_setup import AUTH, CaseDir, product_handler

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
#: The worker function's name as the template would set it; its invoke never leaves this process.
BENCH_WORKER = "mcp-bench-task-worker"


def _tasks_meta() -> dict[str, Any]:
    return events.MODERN_META | {"io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}


def _modern_event(method: str, params: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A 2026-07-28 request that declares the Tasks extension (routing headers mirror the body)."""
    headers = {"mcp-protocol-version": events.MODERN_VERSION, "mcp-method": method, "mcp-name": name, **AUTH}
    return events.http_api_event(events.rpc(method, {**params, "_meta": _tasks_meta()}, 5), headers)


def _task_result(response: Mapping[str, Any]) -> dict[str, Any] | str:
    status, message, _ = events.response_message(response)
    result = (message or {}).get("result")
    if status != 200 or not isinstance(result, dict):
        return f"HTTP {status}: {str(response.get('body'))[:300]}"
    return result


def _check_created(response: Mapping[str, Any]) -> str | None:
    result = _task_result(response)
    if isinstance(result, str):
        return result
    if result.get("resultType") != "task" or result.get("status") != "working" or not result.get("taskId"):
        return f"not a CreateTaskResult: {json.dumps(result)[:300]}"
    return None


class _Tasks:
    """The product on SQLite with the worker function configured (`TASKS_WORKER_FUNCTION`), so a task's
    creation takes the Lambda path: write the task, then `lambda:Invoke` with `InvocationType=Event`.

    The invoke goes through the product's own boto3 client (parameter validation, serialization of the
    event) and is answered 202 by a `before-call` hook on boto3's default session, before signing and
    HTTP: nothing runs the task, so what is timed is creation alone, not the export (the local pool
    would start it on the same CPU). Lambda's real Invoke round trip is not in these figures.
    """

    def __init__(self) -> None:
        self.dir = CaseDir()
        self.state: dict[str, str] = {}
        self.invokes = 0

    def _invoked(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        self.invokes += 1
        return AWSResponse("https://lambda.invalid/", 202, {}, None), {"StatusCode": 202, "Payload": b""}

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        import boto3

        with self.dir.setup(), aws.environ(aws.CREDENTIALS):
            if boto3.DEFAULT_SESSION is None:
                boto3.setup_default_session()
            session = boto3.DEFAULT_SESSION
            assert session is not None
            session.events.register("before-call.lambda.Invoke", self._invoked, unique_id="mcp-bench-invoke")
            try:
                yield
            finally:
                session.events.unregister("before-call.lambda.Invoke", unique_id="mcp-bench-invoke")

    def handler(self):  # noqa: ANN201
        env = {
            **self.dir.local_env(),
            "TASKS_WORKER_FUNCTION": BENCH_WORKER,
            # Queued tasks are never claimed here: keep them readable as `working` for the whole run.
            "TASKS_DISPATCH_TIMEOUT_S": "86400",
            "TASKS_TTL_S": "86400",
        }
        handler = product_handler(env)
        context = events.FakeLambdaContext()
        added = handler(events.tools_call_event("items_add", {"title": ITEM_TITLE}, AUTH), context)
        problem = check_item(created=True)(added)
        if problem:
            raise SystemExit(f"tasks-sqlite: could not add the item to read: {problem}")
        self.state["item_id"] = events.response_message(added)[1]["result"]["structuredContent"]["item"]["id"]  # type: ignore[index]
        created = handler(self.create_event(), context)
        problem = _check_created(created)
        if problem or self.invokes != 1:
            raise SystemExit(f"tasks-sqlite: could not create the task to poll: {problem or f'{self.invokes} invokes'}")
        self.state["task_id"] = events.response_message(created)[1]["result"]["taskId"]  # type: ignore[index]
        return handler

    def create_event(self) -> dict[str, Any]:
        return _modern_event("tools/call", {"name": "items_export", "arguments": {}}, "items_export")

    def check_get(self, response: Mapping[str, Any]) -> str | None:
        result = _task_result(response)
        if isinstance(result, str):
            return result
        if result.get("taskId") != self.state["task_id"] or result.get("status") != "working":
            return f"not the queued task: {json.dumps(result)[:300]}"
        return None

    def notes(self) -> list[str]:
        return [
            f"tasks-sqlite: {self.invokes:,} asynchronous invokes of the worker answered 202 in-process "
            "(botocore validated and serialized each; no signing, no HTTP): one per task created."
        ]


_tasks = _Tasks()

register(
    Case(
        name="tasks-sqlite",
        module="app.main",
        description="MCP Tasks through the product's Lambda handler (local config, dev key, SQLite, the worker "
        "function configured, its invoke answered in-process): task creation (tools/call items_export -> "
        "CreateTaskResult) and tasks/get, beside plain tools/calls items_get and items_add, all at 2026-07-28 with the "
        "extension declared",
        probes={
            "task_create": Probe(
                _tasks.create_event,
                _check_created,
                f"tools/call items_export -> CreateTaskResult @{events.MODERN_VERSION}",
            ),
            "task_get": Probe(
                lambda: _modern_event("tasks/get", {"taskId": _tasks.state["task_id"]}, _tasks.state["task_id"]),
                _tasks.check_get,
                f"tasks/get (a working task) @{events.MODERN_VERSION}",
            ),
            "items_get": Probe(
                lambda: _modern_event("tools/call", {"name": "items_get", "arguments": {"id": _tasks.state["item_id"]}}, "items_get"),
                check_item(),
                f"tools/call items_get (plain) @{events.MODERN_VERSION}",
            ),
            # Creation is a durable write before the reply; this is the plain tools/call that writes too.
            "items_add": Probe(
                lambda: _modern_event("tools/call", {"name": "items_add", "arguments": {"title": ITEM_TITLE}}, "items_add"),
                check_item(created=True),
                f"tools/call items_add (plain, one durable write) @{events.MODERN_VERSION}",
            ),
        },
        warm=("items_get", "items_add", "task_create", "task_get"),
        cold=(),
        factory=_tasks.handler,
        settled_heap=True,
        setup=_tasks.setup,
        max_calls=300,  # as items-sqlite: each sync tool call and each creation runs on a new worker thread
        # Reported in the item-store table (the same columns); the 2x target is in bench.report.
        extras={"kind": "items", "backend": "sqlite (tasks)", "notes": _tasks.notes},
    )
)

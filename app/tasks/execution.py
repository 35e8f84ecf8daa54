"""One run of a task: claim it, run its tool through the server definition, record the outcome.

The tool runs as a 2026-07-28 `tools/call` through the SDK kernel (`ServerRunner`)
of the very server that answers synchronous calls: same middleware, same
argument validation, same result and `structuredContent`. The run carries the
creating request's client envelope (minus the tasks extension, so it can
never become a task again) and a progress token, so `ctx.report_progress`
lands in the task. Answers to input requests and the round's `requestState`
are handed back by `TaskRunMiddleware`, which sits inside the SDK's
requestState boundary and so deals in plaintext (a sealed state would expire
while a person takes their time to answer).

While the tool runs, a heartbeat extends the lease (and records progress, at
most once per heartbeat) and learns when the task was cancelled, lapsed or
superseded: the run is then cancelled and nothing more is written. A run that
outlives its deadline (Lambda's remaining time minus a margin) fails with
`-32001`; one that dies leaves a lease that lapses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import anyio.to_thread
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    INTERNAL_ERROR,
    PROTOCOL_VERSION_META_KEY,
    REQUEST_TIMEOUT,
    SERVER_INFO_META_KEY,
)

from app.core.principal import Principal, bound_principal
from app.transport.exchange import RequestChannel
from app.transport.lifespan import ServerLifespan
from app.transport.mistakes import INTERNAL, error_data
from app.tasks import extension
from app.tasks.dispatch import TaskEvent
from app.tasks.model import Progress, TaskRecord
from app.tasks.service import TaskService

logger = logging.getLogger(__name__)

_PROGRESS_TOKEN = "task"


@dataclass
class _Run:
    """What the middleware hands to (and takes from) the tool call of one run."""

    input_responses: dict[str, Any]
    request_state: str | None
    captured_state: str | None = None


_CURRENT_RUN: ContextVar[_Run | None] = ContextVar("mcp_task_run", default=None)


class TaskRunMiddleware:
    """Server middleware: during a task run, give `tools/call` the stored answers and plaintext state.

    Installed inside the SDK's requestState boundary (user middleware always
    is), which therefore never sees the plaintext: there is nothing to unseal
    on the way in, and the plaintext state of an `input_required` outcome is
    captured here before the boundary seals it on the way out.
    """

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        run = _CURRENT_RUN.get()
        if run is None or ctx.method != "tools/call" or ctx.params is None:
            return await call_next(ctx)
        params = dict(ctx.params)
        if run.input_responses:
            params["inputResponses"] = run.input_responses
        if run.request_state is not None:
            params["requestState"] = run.request_state
        result = await call_next(replace(ctx, params=params))
        if isinstance(result, Mapping) and result.get("resultType") == "input_required":
            state = result.get("requestState")
            run.captured_state = state if isinstance(state, str) else None
        return result


@dataclass(slots=True, eq=False)
class _TaskChannel(RequestChannel):
    """The dispatch context of a run: the HTTP endpoint's channel, keeping only the latest progress.

    The heartbeat writes `latest` to the task; other notifications have no
    request to ride on and are dropped. No server-to-client request can be
    sent (input comes back through `tasks/update`): the base channel refuses.
    """

    progress_token: str | None = _PROGRESS_TOKEN
    latest: Progress | None = None

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: Any = None) -> None:
        if method != "notifications/progress" or params is None:
            return
        progress, total = params.get("progress", 0), params.get("total")
        if isinstance(progress, int | float):
            self.latest = Progress(float(progress), None if total is None else float(total), params.get("message"))


@dataclass(frozen=True)
class ExecutorSettings:
    #: Seconds between heartbeats (lease renewal, progress write, cancellation check).
    heartbeat_s: float = 5.0
    #: Longest run when the caller gives no deadline (local pool).
    max_runtime_s: float = 900.0


@dataclass
class TaskExecutor:
    """Runs task events against one server definition. Build once per process."""

    server: Server[Any]
    service: TaskService
    settings: ExecutorSettings = field(default_factory=ExecutorSettings)
    #: The server's lifespan, entered at the first run in this process (the worker has no start-up hook either).
    _lifespan: ServerLifespan = field(init=False)

    def __post_init__(self) -> None:
        self._lifespan = ServerLifespan(self.server)

    async def execute(self, event: TaskEvent, deadline_s: float | None = None) -> str:
        """Run `event`; returns what happened (`completed`, `failed`, `input_required`, `stopped`, `skipped`)."""
        record = await anyio.to_thread.run_sync(self.service.claim, event.principal_id, event.task_id, event.run)
        if record is None:
            logger.info("task run skipped: nothing to claim", extra={"task_run": event.run})
            return "skipped"
        owner = record.owner
        budget = deadline_s or self.settings.max_runtime_s
        if owner.kind == "anonymous":  # created where no authentication runs: nobody to bind
            return await self._run(record, event, budget)
        principal = Principal(id=owner.principal_id, kind=owner.kind, name=owner.name, scopes=frozenset(owner.scopes))  # type: ignore[arg-type]
        with bound_principal(principal):
            return await self._run(record, event, budget)

    async def _run(self, record: TaskRecord, event: TaskEvent, deadline_s: float) -> str:
        run = _Run(input_responses=dict(record.input_responses), request_state=record.request_state)
        channel = _TaskChannel(
            transport=TransportContext(kind="task-worker", can_send_request=False),
            request_id=f"task-{event.run}",
            message_metadata=ServerMessageMetadata(),
        )
        client = record.client
        version = str(client.get("protocolVersion") or "2026-07-28")
        meta: dict[str, Any] = {
            PROTOCOL_VERSION_META_KEY: version,
            CLIENT_CAPABILITIES_META_KEY: client.get("clientCapabilities") or {},
            "progressToken": _PROGRESS_TOKEN,
        }
        if client.get("clientInfo"):
            meta[CLIENT_INFO_META_KEY] = client["clientInfo"]
        params = {"name": record.tool_name, "arguments": record.arguments, "_meta": meta}
        connection = Connection.from_envelope(version, client.get("clientInfo"), meta[CLIENT_CAPABILITIES_META_KEY])
        runner = ServerRunner(self.server, connection, await self._lifespan.enter())

        async def call() -> dict[str, Any]:
            run_token = _CURRENT_RUN.set(run)
            try:
                with extension.running_task():
                    return await runner.on_request(channel, "tools/call", params)
            finally:
                _CURRENT_RUN.reset(run_token)

        work = asyncio.ensure_future(call())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        written: Progress | None = None
        while not work.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                work.cancel()
                error = {"code": REQUEST_TIMEOUT, "message": f"the task ran out of time after {deadline_s:.0f} s"}
                await self._write(self.service.fail, record, event, error)
                return "failed"
            await asyncio.wait((work,), timeout=min(self.settings.heartbeat_s, remaining))
            if work.done():
                break
            latest = channel.latest
            alive = await anyio.to_thread.run_sync(
                self.service.heartbeat,
                event.principal_id,
                event.task_id,
                event.run,
                latest if latest != written else None,
            )
            written = latest
            if not alive:
                work.cancel()
                logger.info("task run stopped: cancelled, lapsed or superseded", extra={"task_run": event.run})
                return "stopped"
        return await self._outcome(work, run, record, event)

    async def _outcome(self, work: asyncio.Future[dict[str, Any]], run: _Run, record: TaskRecord, event: TaskEvent) -> str:
        exc = work.exception() if not work.cancelled() else asyncio.CancelledError()
        if exc is not None:
            error = _error_of(exc)
            await self._write(self.service.fail, record, event, error)
            return "failed"
        result = dict(work.result())
        if result.get("resultType") == "input_required":
            requests = result.get("inputRequests")
            if isinstance(requests, Mapping) and requests:
                written = await anyio.to_thread.run_sync(
                    self.service.need_input, event.principal_id, event.task_id, event.run, dict(requests), run.captured_state
                )
                return "input_required" if written else "stopped"
            error = {"code": INTERNAL_ERROR, "message": "the tool asked for input without saying what"}
            await self._write(self.service.fail, record, event, error)
            return "failed"
        await self._write(self.service.complete, record, event, _inlined(result))
        return "completed"

    async def _write(self, op: Callable[..., bool], record: TaskRecord, event: TaskEvent, payload: dict[str, Any]) -> None:
        written = await anyio.to_thread.run_sync(op, event.principal_id, event.task_id, event.run, payload)
        if not written:
            logger.info("late task outcome not written (cancelled or lapsed meanwhile)", extra={"task_run": event.run})

    async def aclose(self) -> None:
        await self._lifespan.aclose()


def _error_of(exc: BaseException) -> dict[str, Any]:
    """A failed run's stored error: what the same exception would answer over HTTP (`app.transport.exchange`)."""
    error = error_data(exc)
    if error is None:
        if isinstance(exc, Exception):  # not a cancellation: a server bug, detail to the log only
            logger.error("task tool call raised", exc_info=exc)
        error = INTERNAL
    return error.model_dump(mode="json", exclude_none=True)


def _inlined(result: dict[str, Any]) -> dict[str, Any]:
    """The tool's `CallToolResult` as `tasks/get` inlines it: no envelope fields of the run itself."""
    result.pop("resultType", None)
    meta = result.get("_meta")
    if isinstance(meta, Mapping):
        kept = {key: value for key, value in meta.items() if key != SERVER_INFO_META_KEY}
        if kept:
            result["_meta"] = kept
        else:
            result.pop("_meta")
    return result

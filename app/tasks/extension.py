"""The MCP Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on the SDK's `Extension` interface.

What it adds to an `MCPServer(extensions=[tasks])`:

- `tasks/get`, `tasks/update`, `tasks/cancel` at 2026-07-28 (the extension's
  revision). Each call is authorized on its own: the request must declare the
  extension (else `-32021`), an `Mcp-Name` header, when sent, must equal
  `params.taskId` (else `-32020`; a missing one is accepted, the body is the source of truth; the SDK's header ladder checks only tools, prompts and
  resources), and the task must belong to the calling principal. Another
  principal's task, an expired one and an unknown id all answer the same
  `-32602`.
- A `tools/call` interceptor. A tool declared task-capable (`tool()` or
  `declare()`) called by a request that declared the extension is answered
  with `CreateTaskResult`, after the task is written (durable before reply),
  and its work is handed to the dispatcher: a local worker pool, or the worker
  Lambda function. A request that did not declare the extension never gets a
  task: an `optional` tool runs synchronously as before; a `required` one is
  refused (`-32021` with `data.requiredCapabilities` at 2026-07-28; `-32600`
  with the same explanation in the handshake era, which has no such code).
- A tool may gather input through the multi-round-trip flow *before* it
  becomes a task (`input_first=True`): its resolvers run in the request as
  usual (round 1 answers `input_required`), and the task is created on the
  final round, when the tool body would start. The body then runs in the
  worker with the same answers.

Not served: `notifications/tasks`. It is delivered on a `subscriptions/listen`
stream, which this stateless endpoint does not hold open (Lambda buffers whole
responses); clients poll `tasks/get` at `pollIntervalMs`. The extension is
advertised in `server/discover` with empty settings, as the spec defines none.

Tool authors declare task support in one line:

    @tasks.tool(server, task_support="optional", description="…")
    async def items_export(ctx: Context) -> Export: …

The per-tool declaration travels in the tool's `_meta` under the extension's
identifier (`{"taskSupport": "optional"}`): the SDK's 2026-07-28 surface has no
`execution` field on a tool (it sieves it out), and in the handshake era
`execution.taskSupport` would promise the experimental 2025-11-25 task
methods, which this server does not serve.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import MCP_NAME_HEADER, decode_header_value
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    CallToolRequestParams,
    RequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request
from pydantic import Field

from app.core.errors import DomainError, NotFound
from app.core.principal import peek_principal
from app.tasks.dispatch import Dispatcher, DispatchThrottled, TaskEvent
from app.tasks.model import Owner, TaskRecord, format_timestamp
from app.tasks.service import TaskService

logger = logging.getLogger(__name__)

EXTENSION_ID = "io.modelcontextprotocol/tasks"
TaskSupport = Literal["forbidden", "optional", "required"]
#: `_meta` key on a task's inlined progress (the spec puts progress in `statusMessage` only).
PROGRESS_META_KEY = "mcp-lambda/progress"
_TASK_METHODS_VERSIONS = frozenset(v for v in MODERN_PROTOCOL_VERSIONS if v >= "2026-07-28")

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class TaskSpec:
    support: TaskSupport
    input_first: bool = False


#: Set while a worker runs a task's tool: the interceptor passes the call through.
_IN_TASK: ContextVar[bool] = ContextVar("mcp_in_task", default=False)
#: Set while an `input_first` tool's resolvers run in the request: reaching the body means "become a task".
_PROBING: ContextVar[bool] = ContextVar("mcp_task_probe", default=False)


class _Escalate(MCPError):
    """Raised by an `input_first` tool's body wrapper in the request: its input is complete.

    An `MCPError` because the SDK passes those through the tool manager
    unchanged (anything else becomes an `isError` result).
    """

    def __init__(self) -> None:
        super().__init__(code=INTERNAL_ERROR, message="task escalation escaped its interceptor")


class TaskIdParams(RequestParams):
    task_id: str = Field(alias="taskId", min_length=1, max_length=256)


class UpdateTaskParams(TaskIdParams):
    input_responses: dict[str, Any] = Field(alias="inputResponses")


def task_meta(support: TaskSupport) -> dict[str, Any]:
    """The tool `_meta` entry declaring `support` (what `Tasks.tool` stamps)."""
    return {EXTENSION_ID: {"taskSupport": support}}


def declared_tasks(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request declared the extension in its per-request client capabilities."""
    capabilities = ctx.session.client_capabilities
    extensions = capabilities.extensions if capabilities is not None else None
    return bool(extensions) and EXTENSION_ID in extensions  # type: ignore[operator]


def _missing_capability(ctx: ServerRequestContext[Any, Any], what: str) -> MCPError:
    data = {"requiredCapabilities": {"extensions": {EXTENSION_ID: {}}}}
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message=f"{what} needs the {EXTENSION_ID} extension: declare it in this request's client capabilities",
            data=data,
        )
    return MCPError(
        code=INVALID_REQUEST,
        message=f"{what} runs only as a task ({EXTENSION_ID}, protocol 2026-07-28); "
        "this protocol revision cannot receive tasks",
        data=data,
    )


def _not_found() -> MCPError:
    # One message for unknown, expired and another principal's task: nothing to tell them apart.
    return MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: task not found")


def _domain_error(exc: DomainError) -> MCPError:
    if isinstance(exc, NotFound):
        return _not_found()
    return MCPError(code=INTERNAL_ERROR, message=str(exc))


def task_fields(record: TaskRecord) -> dict[str, Any]:
    """The `Task` shape shared by `CreateTaskResult` and `tasks/get`."""
    fields: dict[str, Any] = {
        "taskId": record.task_id,
        "status": record.status,
        "createdAt": format_timestamp(record.created_at),
        "lastUpdatedAt": format_timestamp(record.updated_at),
        "ttlMs": record.ttl_ms,
        "pollIntervalMs": record.poll_interval_ms,
    }
    if record.status_message:
        fields["statusMessage"] = record.status_message
    return fields


def detailed_task(record: TaskRecord) -> dict[str, Any]:
    """`tasks/get`: the task plus what its status carries (result, error, or input requests)."""
    body = task_fields(record)
    if record.status == "completed" and record.result is not None:
        body["result"] = record.result
    elif record.status == "failed":
        body["error"] = record.error or {"code": INTERNAL_ERROR, "message": "failed"}
    elif record.status == "input_required":
        body["inputRequests"] = record.input_requests or {}
    if record.progress is not None and record.status == "working":
        progress = record.progress
        body["_meta"] = {
            PROGRESS_META_KEY: {
                key: value
                for key, value in (("progress", progress.progress), ("total", progress.total), ("message", progress.message))
                if value is not None
            }
        }
    return body


#: The owner of tasks created where no authentication runs (a bare `create_asgi_app`, the
#: conformance fixture): every caller is the same nobody, and the 256-bit task id is the only guard.
ANONYMOUS = Owner(principal_id="anonymous", kind="anonymous")


def _owner() -> Owner:
    principal = peek_principal()
    if principal is None:
        return ANONYMOUS
    return Owner(
        principal_id=principal.id, kind=principal.kind, name=principal.name, scopes=tuple(sorted(principal.scopes))
    )


def _client_envelope(ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
    """What the worker needs to rebuild the creating request's connection (minus this extension)."""
    raw_meta = (ctx.params or {}).get("_meta")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    capabilities = meta.get(CLIENT_CAPABILITIES_META_KEY)
    capabilities = dict(capabilities) if isinstance(capabilities, Mapping) else {}
    extensions = capabilities.get("extensions")
    if isinstance(extensions, Mapping):
        capabilities["extensions"] = {k: v for k, v in extensions.items() if k != EXTENSION_ID}
    envelope: dict[str, Any] = {"protocolVersion": ctx.protocol_version, "clientCapabilities": capabilities}
    if isinstance(meta.get(CLIENT_INFO_META_KEY), Mapping):
        envelope["clientInfo"] = dict(meta[CLIENT_INFO_META_KEY])
    return envelope


class Tasks(Extension):
    """The Tasks extension. Build it before the `MCPServer`, declare tools after."""

    identifier = EXTENSION_ID

    def __init__(
        self, service: TaskService, dispatcher: Dispatcher, *, authorize_tool: Callable[[str], None] | None = None
    ) -> None:
        self.service = service
        self.dispatcher = dispatcher
        #: Raises a `Refusal` unless the caller may use the task's tool (per-tool scopes,
        #: given by the composition root); called after the ownership read, so a foreign
        #: task stays "not found".
        self._authorize_tool = authorize_tool or (lambda _name: None)
        self._specs: dict[str, TaskSpec] = {}

    # --- declaring tools ----------------------------------------------------------------------

    def declare(self, tool_name: str, support: TaskSupport, *, input_first: bool = False) -> None:
        """Declare a registered tool's task support (for tools registered some other way)."""
        if support not in ("forbidden", "optional", "required"):
            raise ValueError(f"task support must be forbidden, optional or required, not {support!r}")
        self._specs[tool_name] = TaskSpec(support, input_first)

    def tool(
        self,
        server: MCPServer[Any],
        *,
        task_support: TaskSupport = "optional",
        input_first: bool = False,
        meta: dict[str, Any] | None = None,
        **tool_kwargs: Any,
    ) -> Callable[[_F], _F]:
        """`server.tool(...)` for a task-capable tool (`tool_kwargs` are `MCPServer.add_tool`'s).

        `input_first=True`: the tool's `Resolve` parameters gather input in the
        request (multi-round-trip) and the task starts when the body would.
        """

        def decorator(fn: _F) -> _F:
            name = tool_kwargs.get("name") or fn.__name__
            target = _escalation_point(fn) if input_first else fn
            server.add_tool(target, meta={**(meta or {}), **task_meta(task_support)}, **tool_kwargs)
            self.declare(name, task_support, input_first=input_first)
            return fn

        return decorator

    def support(self, tool_name: str) -> TaskSpec:
        return self._specs.get(tool_name) or TaskSpec("forbidden")

    # --- the Extension interface -----------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """No settings are defined by the spec. (`notifications/tasks` is not sent: no listen stream.)"""
        return {}

    def methods(self) -> Sequence[MethodBinding]:
        return (
            MethodBinding("tasks/get", TaskIdParams, self._get, _TASK_METHODS_VERSIONS),
            MethodBinding("tasks/update", UpdateTaskParams, self._update, _TASK_METHODS_VERSIONS),
            MethodBinding("tasks/cancel", TaskIdParams, self._cancel, _TASK_METHODS_VERSIONS),
        )

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if _IN_TASK.get():
            return await call_next(ctx)
        spec = self.support(params.name)
        if spec.support == "forbidden":
            return await call_next(ctx)
        if not declared_tasks(ctx):
            if spec.support == "required":
                raise _missing_capability(ctx, f"tool {params.name!r}")
            return await call_next(ctx)
        if spec.input_first:
            token = _PROBING.set(True)
            try:
                return await call_next(ctx)  # an input_required round, or an error: answered as is
            except _Escalate:
                pass  # every input is in: the body would start now
            finally:
                _PROBING.reset(token)
        return await self._start(params, ctx)

    async def _start(self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        owner = _owner()
        raw = ctx.params or {}
        responses = raw.get("inputResponses")
        state = raw.get("requestState")  # plaintext: the SDK's boundary unsealed it before any interceptor

        def create() -> TaskRecord:
            record = self.service.create(
                owner,
                params.name,
                dict(params.arguments or {}),
                _client_envelope(ctx),
                input_responses=dict(responses) if isinstance(responses, Mapping) else None,
                request_state=state if isinstance(state, str) else None,
            )
            event = TaskEvent(task_id=record.task_id, principal_id=owner.principal_id, run=record.run)
            try:
                self.dispatcher.dispatch(event)
            except DispatchThrottled:
                # Capacity, not a fault: one WARNING line, and the caller is told to come back later.
                logger.warning("task dispatch throttled: the worker is at its concurrency limit", extra={"tool": params.name})
                return self.service.dispatch_failed(record, throttled=True)
            except Exception:
                logger.exception("task dispatch failed", extra={"tool": params.name})
                return self.service.dispatch_failed(record)
            return record

        try:
            record = await anyio.to_thread.run_sync(create)
        except DomainError as exc:
            raise _domain_error(exc) from None
        return {"resultType": "task", **task_fields(record)}

    # --- tasks/* ----------------------------------------------------------------------------------

    def _gate(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> str:
        """Authorize one tasks/* call on its own; returns the caller's principal id."""
        if not declared_tasks(ctx):
            raise _missing_capability(ctx, ctx.method)
        headers = ctx.request.headers if isinstance(ctx.request, Request) else None  # no HTTP in a task run
        # The body is the source of truth: a missing header is accepted (fastmcp-tasks 4.1.x sends none on
        # tasks/*), and only a header that disagrees is refused, naming both values so the user sees which.
        raw = headers.get(MCP_NAME_HEADER) if headers is not None else None
        if raw is not None and (named := decode_header_value(raw)) != task_id:
            raise MCPError(
                code=HEADER_MISMATCH,
                message=f"Mcp-Name header {named!r} does not match params.taskId {task_id!r}",
            )
        return _owner().principal_id

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        principal_id = self._gate(ctx, params.task_id)
        try:
            record = await anyio.to_thread.run_sync(self.service.get, principal_id, params.task_id)
        except DomainError as exc:
            raise _domain_error(exc) from None
        self._authorize_tool(record.tool_name)
        return detailed_task(record)

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        principal_id = self._gate(ctx, params.task_id)

        def cancel() -> None:
            self._authorize_tool(self.service.get(principal_id, params.task_id).tool_name)
            self.service.cancel(principal_id, params.task_id)

        try:
            await anyio.to_thread.run_sync(cancel)
        except DomainError as exc:
            raise _domain_error(exc) from None
        return {}

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> dict[str, Any]:
        principal_id = self._gate(ctx, params.task_id)

        def update() -> None:
            self._authorize_tool(self.service.get(principal_id, params.task_id).tool_name)
            if self.service.update(principal_id, params.task_id, params.input_responses):
                record = self.service.get(principal_id, params.task_id)
                try:
                    self.dispatcher.dispatch(TaskEvent(record.task_id, principal_id, record.run))
                except DispatchThrottled:
                    logger.warning("task dispatch throttled: the worker is at its concurrency limit")
                    self.service.dispatch_failed(record, throttled=True)
                except Exception:
                    logger.exception("task dispatch failed")
                    self.service.dispatch_failed(record)

        try:
            await anyio.to_thread.run_sync(update)
        except DomainError as exc:
            raise _domain_error(exc) from None
        return {}


def in_task() -> bool:
    """True inside a task's run (a tool may use it to skip work a synchronous caller needs)."""
    return _IN_TASK.get()


@contextmanager
def running_task() -> Iterator[None]:
    """Mark the code inside as a task's run (`in_task()`): the executor's way in, not the private variable."""
    token = _IN_TASK.set(True)
    try:
        yield
    finally:
        _IN_TASK.reset(token)


def _escalation_point(fn: _F) -> _F:
    """Wrap an async tool so reaching its body in the request (probe) raises `_Escalate`."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r}: input_first task tools must be async")

    @functools.wraps(fn)
    async def body(*args: Any, **kwargs: Any) -> Any:
        if _PROBING.get():
            raise _Escalate()
        return await fn(*args, **kwargs)

    return body  # type: ignore[return-value]

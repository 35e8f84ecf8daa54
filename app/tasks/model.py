"""A task's record and the guarded transitions of its status machine.

Pure Python: no boto3, no mcp, no starlette. Every transition is a function
from a record to a new record (or `None` when the transition does not apply),
so the rules hold whoever drives them (the API function, a worker, a test) and
both store adapters only have to make each write conditional on the version
the transition was computed from.

    working ──► input_required ──► working ──► … ──► completed | failed | cancelled
       └────────────────────────────────────────────┘

Rules:
- `completed`, `failed` and `cancelled` are terminal: nothing moves a task out
  of them. A late result (the worker finishing after a cancel or after its
  lease lapsed) is refused, never written over the terminal status.
- `cancel` of a terminal task is a no-op (idempotent), not an error.
- `failed` carries a JSON-RPC error and is used for protocol-level failures
  only; a tool result with `isError: true` is `completed`.
- A run holds a *lease*. A task still `working` after its lease has lapsed
  (the process or the Lambda worker died, timed out, ran out of memory) reads
  as `failed` with a message that says so; it is never `working` forever.
- Each dispatch of the work has a run number. A worker may claim only the
  current run, once: a duplicate delivery of the same event claims nothing.
- A dispatched run not claimed yet is held by a lease too (the dispatch
  window); whoever holds it queued may renew it (`hold`). When it lapses the
  task fails saying it never started, not that its work may be partly done.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app.core.timestamps import format_timestamp, parse_timestamp  # noqa: F401 - the wire's timestamp text

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

#: JSON-RPC codes a failed task may carry (the task failed, not the tasks/* call).
INTERNAL_ERROR = -32603
REQUEST_TIMEOUT = -32001

LAPSED_MESSAGE = (
    "the task's worker stopped before finishing (its lease lapsed: the process ended, timed out or ran "
    "out of memory); the work may have been partly done. Call the tool again to retry."
)
NOT_STARTED_MESSAGE = (
    "the task never started: no worker took it before its dispatch window lapsed (the process that held it "
    "queued ended, or the worker was never reached); nothing ran after it was queued. Call the tool again to retry."
)
DISPATCH_FAILED_MESSAGE = "the task could not be handed to a worker; call the tool again"
DISPATCH_THROTTLED_MESSAGE = (
    "the task never started: the task worker is at its concurrency limit (every run slot of this "
    "deployment is busy); nothing ran. Call the tool again in a minute."
)
CANCELLED_MESSAGE = "cancelled at the client's request"

#: Longest status message kept (progress messages come from tool code).
STATUS_MESSAGE_MAX_CHARS = 500


@dataclass(frozen=True)
class Owner:
    """Who created the task: enough to rebuild the principal in a worker, never a credential."""

    principal_id: str
    kind: str
    name: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    progress: float
    total: float | None = None
    message: str | None = None

    def describe(self) -> str:
        amount = f"{_number(self.progress)}/{_number(self.total)}" if self.total is not None else _number(self.progress)
        return f"{amount}: {self.message}" if self.message else amount


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class TaskRecord:
    """One task. `version` starts at 1 and grows by one with every write."""

    task_id: str
    owner: Owner
    tool_name: str
    #: The `tools/call` arguments, kept in the store (the asynchronous invoke payload stays tiny).
    arguments: dict[str, Any]
    #: The creating request's envelope (protocol version, client info and capabilities) as JSON.
    client: dict[str, Any]
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    ttl_ms: int
    poll_interval_ms: int
    version: int = 1
    status_message: str | None = None
    #: When the current run must next show life; `None` while waiting for input or when terminal.
    lease_until: datetime | None = None
    #: The current dispatch of the work (1 on creation, +1 after each `tasks/update` that resumes it).
    run: int = 1
    #: The run a worker has claimed (0: the current run is not claimed yet).
    claimed_run: int = 0
    progress: Progress | None = None
    #: Outstanding server-to-client requests (`input_required`).
    input_requests: dict[str, Any] | None = None
    #: Answers received so far to the outstanding requests of the current round.
    input_responses: dict[str, Any] = field(default_factory=dict)
    #: The SDK's sealed `requestState` of the round that asked; handed back with the answers.
    request_state: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def principal_id(self) -> str:
        return self.owner.principal_id

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def expires_at(self) -> datetime:
        """After this instant the task may be discarded (and reads as unknown)."""
        return self.created_at + timedelta(milliseconds=self.ttl_ms)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def lapsed(self, now: datetime) -> bool:
        return self.status == "working" and self.lease_until is not None and now >= self.lease_until


def utcnow() -> datetime:
    return datetime.now(UTC)


def _clip(message: str | None) -> str | None:
    if message is None:
        return None
    flat = " ".join(message.split())
    return flat if len(flat) <= STATUS_MESSAGE_MAX_CHARS else flat[: STATUS_MESSAGE_MAX_CHARS - 1] + "…"


def _bump(record: TaskRecord, now: datetime, **changes: Any) -> TaskRecord:
    return replace(record, version=record.version + 1, updated_at=now, **changes)


def new_task(
    *,
    task_id: str,
    owner: Owner,
    tool_name: str,
    arguments: dict[str, Any],
    client: dict[str, Any],
    now: datetime,
    ttl_ms: int,
    poll_interval_ms: int,
    dispatch_s: float,
    input_responses: dict[str, Any] | None = None,
    request_state: str | None = None,
) -> TaskRecord:
    """A `working` task whose first run must be claimed within `dispatch_s`."""
    return TaskRecord(
        task_id=task_id,
        owner=owner,
        tool_name=tool_name,
        arguments=dict(arguments),
        client=dict(client),
        status="working",
        status_message="queued",
        created_at=now,
        updated_at=now,
        ttl_ms=ttl_ms,
        poll_interval_ms=poll_interval_ms,
        lease_until=now + timedelta(seconds=dispatch_s),
        input_responses=dict(input_responses or {}),
        request_state=request_state,
    )


def undispatched(
    record: TaskRecord, run: int, now: datetime, message: str = DISPATCH_FAILED_MESSAGE
) -> TaskRecord | None:
    """Run `run` could not be handed to a worker (the invoke failed or was throttled): failed at once."""
    if record.status != "working" or record.run != run or record.claimed_run >= run:
        return None
    error = {"code": INTERNAL_ERROR, "message": message}
    return _bump(record, now, status="failed", error=error, status_message=message, lease_until=None)


def claim(record: TaskRecord, run: int, now: datetime, lease_s: float) -> TaskRecord | None:
    """The worker takes run `run`; None when it is not the current, unclaimed, live run."""
    if record.status != "working" or record.run != run or record.claimed_run >= run or record.lapsed(now):
        return None
    return _bump(record, now, claimed_run=run, lease_until=now + timedelta(seconds=lease_s), status_message="running")


def hold(record: TaskRecord, run: int, now: datetime, dispatch_s: float) -> TaskRecord | None:
    """Renew the dispatch window of run `run`, still queued (not claimed); None when there is nothing to hold.

    A local pool holds its queued runs this way while its process lives, so the
    window can be as short as a lease: if the process dies they lapse as fast as
    a running one, instead of after the asynchronous invoke's maximum event age.
    """
    if record.status != "working" or record.run != run or record.claimed_run >= run or record.lapsed(now):
        return None
    return _bump(record, now, lease_until=now + timedelta(seconds=dispatch_s))


def _owns_run(record: TaskRecord, run: int) -> bool:
    return record.status == "working" and record.run == run and record.claimed_run == run


def heartbeat(
    record: TaskRecord, run: int, now: datetime, lease_s: float, progress: Progress | None = None
) -> TaskRecord | None:
    """Extend the lease (and record progress); None when the run no longer owns the task (stop working)."""
    if not _owns_run(record, run) or record.lapsed(now):
        return None
    changes: dict[str, Any] = {"lease_until": now + timedelta(seconds=lease_s)}
    if progress is not None:
        changes["progress"] = Progress(progress.progress, progress.total, _clip(progress.message))
        changes["status_message"] = _clip(progress.describe())
    return _bump(record, now, **changes)


def complete(record: TaskRecord, run: int, result: dict[str, Any], now: datetime) -> TaskRecord | None:
    """The tool's result (an `isError` result too). None (nothing written) for a late result."""
    if not _owns_run(record, run) or record.lapsed(now):
        return None
    message = "completed with a tool error" if result.get("isError") else "completed"
    return _bump(record, now, status="completed", result=result, status_message=message, lease_until=None)


def fail(record: TaskRecord, run: int, error: dict[str, Any], now: datetime) -> TaskRecord | None:
    """A protocol-level error (JSON-RPC `{code, message, data?}`). None for a late outcome."""
    if not _owns_run(record, run):
        return None
    message = _clip(str(error.get("message") or "failed"))
    return _bump(record, now, status="failed", error=error, status_message=message, lease_until=None)


def need_input(
    record: TaskRecord, run: int, input_requests: dict[str, Any], request_state: str | None, now: datetime
) -> TaskRecord | None:
    """The run stops and waits for the client's answers (`tasks/update`)."""
    if not _owns_run(record, run) or not input_requests:
        return None
    return _bump(
        record,
        now,
        status="input_required",
        input_requests=dict(input_requests),
        input_responses={},
        request_state=request_state,
        lease_until=None,
        status_message="waiting for input: " + ", ".join(sorted(input_requests)),
    )


def answer(
    record: TaskRecord, responses: dict[str, Any], now: datetime, dispatch_s: float
) -> tuple[TaskRecord, bool] | None:
    """Take the answers to outstanding requests; unknown or already answered keys are ignored.

    Returns the new record and whether the work must be dispatched again (every
    outstanding request is answered), or None when nothing changes.
    """
    if record.status != "input_required" or not record.input_requests:
        return None
    accepted = {key: value for key, value in responses.items() if key in record.input_requests}
    if not accepted:
        return None
    outstanding = {key: value for key, value in record.input_requests.items() if key not in accepted}
    answers = {**record.input_responses, **accepted}
    if outstanding:
        message = "waiting for input: " + ", ".join(sorted(outstanding))
        return _bump(record, now, input_requests=outstanding, input_responses=answers, status_message=message), False
    resumed = _bump(
        record,
        now,
        status="working",
        input_requests=None,
        input_responses=answers,
        run=record.run + 1,
        lease_until=now + timedelta(seconds=dispatch_s),
        status_message="resuming with the answers",
    )
    return resumed, True


def cancel(record: TaskRecord, now: datetime) -> TaskRecord | None:
    """Cancel a live task; None for a terminal one (cancel is idempotent there)."""
    if record.terminal:
        return None
    return _bump(
        record, now, status="cancelled", status_message=CANCELLED_MESSAGE, lease_until=None, input_requests=None
    )


def lapse(record: TaskRecord, now: datetime) -> TaskRecord | None:
    """A `working` task whose lease has lapsed becomes `failed`; None otherwise."""
    if not record.lapsed(now):
        return None
    # Claimed or not tells whether any of the work may have run.
    message = LAPSED_MESSAGE if record.claimed_run >= record.run else NOT_STARTED_MESSAGE
    error = {"code": INTERNAL_ERROR, "message": message}
    return _bump(record, now, status="failed", error=error, status_message=message, lease_until=None)


def seen(record: TaskRecord, now: datetime) -> TaskRecord:
    """The task as a reader must see it at `now` (a lapsed lease reads as failed)."""
    return lapse(record, now) or record


# --- JSON form (what both adapters store) ---------------------------------------------------


def to_document(record: TaskRecord) -> dict[str, Any]:
    """The record as JSON-compatible values; `from_document` is its inverse."""
    return {
        "task_id": record.task_id,
        "owner": {
            "principal_id": record.owner.principal_id,
            "kind": record.owner.kind,
            "name": record.owner.name,
            "scopes": list(record.owner.scopes),
        },
        "tool_name": record.tool_name,
        "arguments": record.arguments,
        "client": record.client,
        "status": record.status,
        "created_at": format_timestamp(record.created_at),
        "updated_at": format_timestamp(record.updated_at),
        "ttl_ms": record.ttl_ms,
        "poll_interval_ms": record.poll_interval_ms,
        "version": record.version,
        "status_message": record.status_message,
        "lease_until": None if record.lease_until is None else format_timestamp(record.lease_until),
        "run": record.run,
        "claimed_run": record.claimed_run,
        "progress": None
        if record.progress is None
        else {"progress": record.progress.progress, "total": record.progress.total, "message": record.progress.message},
        "input_requests": record.input_requests,
        "input_responses": record.input_responses,
        "request_state": record.request_state,
        "result": record.result,
        "error": record.error,
    }


def from_document(doc: dict[str, Any]) -> TaskRecord:
    owner = doc["owner"]
    progress = doc.get("progress")
    lease = doc.get("lease_until")
    return TaskRecord(
        task_id=doc["task_id"],
        owner=Owner(
            principal_id=owner["principal_id"],
            kind=owner["kind"],
            name=owner.get("name"),
            scopes=tuple(owner.get("scopes") or ()),
        ),
        tool_name=doc["tool_name"],
        arguments=doc.get("arguments") or {},
        client=doc.get("client") or {},
        status=doc["status"],
        created_at=parse_timestamp(doc["created_at"]),
        updated_at=parse_timestamp(doc["updated_at"]),
        ttl_ms=int(doc["ttl_ms"]),
        poll_interval_ms=int(doc["poll_interval_ms"]),
        version=int(doc["version"]),
        status_message=doc.get("status_message"),
        lease_until=None if lease is None else parse_timestamp(lease),
        run=int(doc.get("run", 1)),
        claimed_run=int(doc.get("claimed_run", 0)),
        progress=None
        if progress is None
        else Progress(progress["progress"], progress.get("total"), progress.get("message")),
        input_requests=doc.get("input_requests"),
        input_responses=doc.get("input_responses") or {},
        request_state=doc.get("request_state"),
        result=doc.get("result"),
        error=doc.get("error"),
    )

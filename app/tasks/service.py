"""Task use cases over the `TaskStore` port: what the extension and the workers call.

Every transition is read → `model` function → compare-and-set, retried a few
times when another writer got in between (a heartbeat racing a cancel, two
instances answering one poll). The clock and the id generator are injected.
Ownership is the key: every method takes the caller's principal id, and a task
of another principal (or one past its TTL) is `NotFound`, exactly like an id
that never existed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.errors import NotFound, StoreUnavailable
from app.tasks import model
from app.tasks.model import Owner, Progress, TaskRecord
from app.tasks.port import TaskStore

logger = logging.getLogger(__name__)

#: Compare-and-set attempts before giving up as "busy" (each loser re-reads first).
_CAS_ATTEMPTS = 8
#: 32 random bytes, URL-safe: unguessable, and usable as a bearer handle.
TASK_ID_BYTES = 32


def new_task_id() -> str:
    return secrets.token_urlsafe(TASK_ID_BYTES)


@dataclass(frozen=True)
class TaskTimings:
    """How long tasks live and how their runs are watched (see `TaskSettings`)."""

    ttl_ms: int = 3_600_000
    poll_interval_ms: int = 1_000
    #: A dispatched run must be claimed within this (the async invoke's maximum event age).
    dispatch_s: float = 300.0
    #: A claimed run must heartbeat within this.
    lease_s: float = 30.0


class TaskService:
    def __init__(
        self,
        store: TaskStore,
        timings: TaskTimings | None = None,
        *,
        clock: Callable[[], datetime] = model.utcnow,
        new_id: Callable[[], str] = new_task_id,
        on_change: Callable[[TaskRecord | None, TaskRecord], None] | None = None,
    ) -> None:
        self.store = store
        self.timings = timings or TaskTimings()
        self._clock = clock
        self._new_id = new_id
        #: Told of every durable change (before, after; before None on creation): the audit records.
        self._on_change = on_change

    def _changed(self, before: TaskRecord | None, after: TaskRecord) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(before, after)
        except Exception:  # noqa: BLE001 - an observer never undoes or fails a durable transition
            logger.warning("task change observer failed", exc_info=True)

    def now(self) -> datetime:
        return self._clock()

    # --- the API side -----------------------------------------------------------------------

    def create(
        self,
        owner: Owner,
        tool_name: str,
        arguments: dict[str, Any],
        client: dict[str, Any],
        *,
        input_responses: dict[str, Any] | None = None,
        request_state: str | None = None,
    ) -> TaskRecord:
        """Write a new `working` task; returns once it is durable (a consistent read finds it).

        `input_responses`/`request_state`: what a multi-round-trip exchange gathered
        before the task was created; the run gets them back.
        """
        t = self.timings
        record = model.new_task(
            task_id=self._new_id(),
            owner=owner,
            tool_name=tool_name,
            arguments=arguments,
            client=client,
            now=self.now(),
            ttl_ms=t.ttl_ms,
            poll_interval_ms=t.poll_interval_ms,
            dispatch_s=t.dispatch_s,
            input_responses=input_responses,
            request_state=request_state,
        )
        self.store.create(record)
        self._changed(None, record)
        return record

    def dispatch_failed(self, record: TaskRecord, *, throttled: bool = False) -> TaskRecord:
        """The run could not be handed to a worker: the task fails now rather than lapsing later."""
        message = model.DISPATCH_THROTTLED_MESSAGE if throttled else model.DISPATCH_FAILED_MESSAGE
        failed, _ = self._transition(
            record.principal_id, record.task_id, lambda r: model.undispatched(r, record.run, self.now(), message)
        )
        return failed

    def get(self, principal_id: str, task_id: str) -> TaskRecord:
        """The task as the caller must see it; a lapsed lease is recorded as `failed` on the way."""
        record = self._load(principal_id, task_id)
        now = self.now()
        if record.lapsed(now):
            lapsed, _ = self._transition(principal_id, task_id, lambda r: model.lapse(r, self.now()))
            return lapsed
        return record

    def cancel(self, principal_id: str, task_id: str) -> TaskRecord:
        """Cancel unless terminal (then nothing changes: cancel is idempotent)."""
        record, _ = self._transition(principal_id, task_id, lambda r: model.cancel(r, self.now()))
        return record

    def update(self, principal_id: str, task_id: str, responses: dict[str, Any]) -> bool:
        """Store answers to outstanding input requests; True when the work must be dispatched again."""
        resumed: list[bool] = []

        def apply(record: TaskRecord) -> TaskRecord | None:
            outcome = model.answer(record, responses, self.now(), self.timings.dispatch_s)
            if outcome is None:
                return None
            resumed[:] = [outcome[1]]
            return outcome[0]

        _, written = self._transition(principal_id, task_id, apply)
        return written and resumed == [True]

    # --- the worker side --------------------------------------------------------------------

    def claim(self, principal_id: str, task_id: str, run: int) -> TaskRecord | None:
        """Take run `run` of the task; None when there is nothing to run (duplicate, stale, cancelled, gone)."""
        try:
            record, written = self._transition(
                principal_id, task_id, lambda r: model.claim(r, run, self.now(), self.timings.lease_s)
            )
        except NotFound:
            return None
        return record if written else None

    def hold(self, principal_id: str, task_id: str, run: int) -> bool:
        """Renew the dispatch window of a run still queued; False when it is no longer queued (claimed, cancelled, gone)."""
        try:
            _, wrote = self._transition(
                principal_id, task_id, lambda r: model.hold(r, run, self.now(), self.timings.dispatch_s)
            )
        except NotFound:
            return False
        return wrote

    def heartbeat(self, principal_id: str, task_id: str, run: int, progress: Progress | None = None) -> bool:
        """Extend the lease (with progress); False when the run must stop (cancelled, lapsed, superseded)."""
        _, written = self._transition(
            principal_id, task_id, lambda r: model.heartbeat(r, run, self.now(), self.timings.lease_s, progress)
        )
        return written

    def complete(self, principal_id: str, task_id: str, run: int, result: dict[str, Any]) -> bool:
        _, written = self._transition(principal_id, task_id, lambda r: model.complete(r, run, result, self.now()))
        return written

    def fail(self, principal_id: str, task_id: str, run: int, error: dict[str, Any]) -> bool:
        _, written = self._transition(principal_id, task_id, lambda r: model.fail(r, run, error, self.now()))
        return written

    def need_input(
        self, principal_id: str, task_id: str, run: int, input_requests: dict[str, Any], request_state: str | None
    ) -> bool:
        _, written = self._transition(
            principal_id,
            task_id,
            lambda r: model.need_input(r, run, input_requests, request_state, self.now()),
        )
        return written

    # --- plumbing ---------------------------------------------------------------------------

    def _load(self, principal_id: str, task_id: str) -> TaskRecord:
        record = self.store.get(principal_id, task_id)
        if record is None or record.expired(self.now()):
            raise NotFound("task not found (unknown, expired, or not yours)")
        return record

    def _transition(
        self, principal_id: str, task_id: str, step: Callable[[TaskRecord], TaskRecord | None]
    ) -> tuple[TaskRecord, bool]:
        """Apply `step` with compare-and-set; returns (the record now, whether this call wrote it)."""
        for _ in range(_CAS_ATTEMPTS):
            current = self._load(principal_id, task_id)
            changed = step(current)
            if changed is None:
                return current, False
            if self.store.replace(changed, current.version):
                self._changed(current, changed)
                return changed, True
            logger.debug("task write lost a race; re-reading", extra={"task_version": current.version})
        raise StoreUnavailable("the task is being changed by many writers at once; retry in a moment")

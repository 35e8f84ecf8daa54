"""Handing a task's run to a worker: the asynchronous Lambda invoke, or a local pool.

The event is tiny on purpose: the task's id, its owner's principal id (the
store's partition key) and the run number. Arguments stay in the store: the
asynchronous invoke payload is limited to 256 KB, and the worker must read the
task anyway to claim it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # botocore loads with the client, not with this module
    from botocore.client import BaseClient


logger = logging.getLogger(__name__)

EVENT_KIND = "mcp-lambda/task-run"
EVENT_VERSION = 1


class InvalidTaskEvent(ValueError):
    """An event that is not a task run (the worker logs and drops it)."""


class DispatchThrottled(RuntimeError):
    """Lambda refused the asynchronous invoke for capacity, after botocore's own retries: nothing was queued."""


#: Invoke error codes meaning "no capacity now" (the worker's reserved concurrency or the account's
#: limits), as opposed to a broken configuration.
THROTTLE_CODES = frozenset({"TooManyRequestsException", "ThrottlingException", "EC2ThrottledException"})


@dataclass(frozen=True)
class TaskEvent:
    task_id: str
    principal_id: str
    run: int

    def payload(self) -> dict[str, Any]:
        return {
            "kind": EVENT_KIND,
            "v": EVENT_VERSION,
            "taskId": self.task_id,
            "principalId": self.principal_id,
            "run": self.run,
        }

    @classmethod
    def parse(cls, event: Any) -> TaskEvent:
        if not isinstance(event, Mapping) or event.get("kind") != EVENT_KIND or event.get("v") != EVENT_VERSION:
            raise InvalidTaskEvent("not a task-run event")
        task_id, principal_id, run = event.get("taskId"), event.get("principalId"), event.get("run")
        if not (isinstance(task_id, str) and task_id and isinstance(principal_id, str) and principal_id):
            raise InvalidTaskEvent("task-run event without taskId/principalId")
        if not isinstance(run, int) or isinstance(run, bool) or run < 1:
            raise InvalidTaskEvent("task-run event without a valid run number")
        return cls(task_id=task_id, principal_id=principal_id, run=run)


class Dispatcher(Protocol):
    def dispatch(self, event: TaskEvent) -> None:
        """Start the run somewhere else; return at once. Raises when it could not be handed over."""
        ...


class LambdaInvoker:
    """Invokes the worker function asynchronously (`InvocationType=Event`) with the task event.

    Lambda queues the event and answers 202 at once; the worker's asynchronous
    invocation settings (retries, maximum event age) live in the template.
    """

    def __init__(self, client: BaseClient, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def dispatch(self, event: TaskEvent) -> None:
        from botocore.exceptions import ClientError  # loaded with the client already

        try:
            response = self._client.invoke(
                FunctionName=self._function,
                InvocationType="Event",
                Payload=json.dumps(event.payload(), separators=(",", ":")).encode("utf-8"),
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in THROTTLE_CODES:
                raise DispatchThrottled("the task worker is at its concurrency limit") from err
            raise
        status = response.get("StatusCode")
        if status != 202:
            raise RuntimeError(f"asynchronous invoke of the task worker answered {status}, not 202")


RunFn = Callable[[TaskEvent], Awaitable[Any]]


class LocalWorkerPool:
    """A bounded pool of task runs on one dedicated event loop thread (`make run`, tests).

    At most `size` runs execute at once; the rest wait their turn, and the pool
    renews their dispatch window every `hold_every_s` while they wait (`hold`,
    the service's `hold`). So the window is only a lease long: if the process
    stops, queued runs lapse to `failed` ("never started") as fast as runs in
    flight do, not after `TASKS_DISPATCH_TIMEOUT_S` (which is for the Lambda
    worker's event queue, which does not die with a process).
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._hold: Callable[[TaskEvent], Any] | None = None
        self._hold_every_s = 5.0
        #: Runs dispatched and waiting for a slot (touched on the pool's loop only).
        self._queued: set[TaskEvent] = set()
        self._run: RunFn | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()

    def bind(self, run: RunFn, hold: Callable[[TaskEvent], Any] | None = None, hold_every_s: float = 5.0) -> None:
        """What to do with each event (the executor, built once the server exists), and how to keep a queued one alive."""
        self._run = run
        self._hold = hold
        self._hold_every_s = hold_every_s

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    self._slots = asyncio.Semaphore(self._size)
                    renewals = loop.create_task(self._renew_queued()) if self._hold is not None else None
                    ready.set()
                    loop.run_forever()
                    if renewals is not None:
                        renewals.cancel()

                threading.Thread(target=serve, name="task-workers", daemon=True).start()
                ready.wait()
                self._loop = loop
            return self._loop

    def dispatch(self, event: TaskEvent) -> None:
        if self._run is None:
            raise RuntimeError("the local task pool has no executor bound")
        future = asyncio.run_coroutine_threadsafe(self._guarded(event), self._ensure_loop())
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def _renew_queued(self) -> None:
        """Every `hold_every_s`, renew the dispatch window of each run still waiting for a slot."""
        assert self._hold is not None
        while True:
            await asyncio.sleep(self._hold_every_s)
            for event in list(self._queued):
                try:
                    await asyncio.to_thread(self._hold, event)
                except Exception:  # noqa: BLE001 - a store hiccup: the next round retries, the lease has slack
                    logger.warning("could not renew a queued task's dispatch window", exc_info=True)

    async def _guarded(self, event: TaskEvent) -> None:
        assert self._slots is not None and self._run is not None
        self._queued.add(event)
        try:
            await self._slots.acquire()
        finally:
            self._queued.discard(event)
        try:
            try:
                await self._run(event)
            except Exception:
                logger.exception("task run crashed", extra={"task_run": event.run})
        finally:
            self._slots.release()

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until every dispatched run has finished (tests, shutdown); False on timeout."""
        for future in list(self._pending):
            try:
                future.result(timeout=timeout_s)
            except Exception:  # noqa: BLE001 - logged in _guarded; here we only wait
                return False
        return True

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            for future in list(self._pending):
                future.cancel()
            loop.call_soon_threadsafe(loop.stop)

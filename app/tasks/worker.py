"""The task worker's Lambda handler: one asynchronous event, one run of one task.

Lambda delivers the event the API function sent (`TaskEvent.payload()`,
`InvocationType=Event`). The handler claims the run with a conditional write
(a duplicate delivery, or a retry after the task moved on, claims nothing and
returns), runs the tool through the same server definition as a synchronous
call, and records the outcome, all before Lambda's timeout minus
`TASKS_DEADLINE_MARGIN_S`. The handler never raises for a task's failure: the
failure is the task's outcome, written to the store; raising would only make
Lambda retry a run that must not run twice. An event that is not a task run
is logged and dropped.

One event loop per execution environment, kept across warm invocations, as
the executor keeps the server's lifespan open on it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from app.tasks.dispatch import InvalidTaskEvent, TaskEvent
from app.tasks.execution import TaskExecutor

if TYPE_CHECKING:  # Lambda's context, typed by Mangum's Protocol (the one the app uses); no import at run time
    from mangum.types import LambdaContext

logger = logging.getLogger(__name__)


class LambdaTaskWorker:
    def __init__(self, executor: TaskExecutor, *, deadline_margin_s: float = 5.0) -> None:
        self._executor = executor
        self._margin = deadline_margin_s
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, event: Any, context: LambdaContext | None) -> dict[str, Any]:
        try:
            task_event = TaskEvent.parse(event)
        except InvalidTaskEvent as exc:
            logger.warning("worker event dropped", extra={"reason": str(exc)})
            return {"outcome": "invalid"}
        remaining_ms = context.get_remaining_time_in_millis() if context is not None else None
        deadline_s = None if remaining_ms is None else max(1.0, remaining_ms / 1000 - self._margin)
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        outcome = self._loop.run_until_complete(self._executor.execute(task_event, deadline_s))
        logger.info("task run finished", extra={"outcome": outcome, "task_run": task_event.run})
        return {"outcome": outcome}

"""Task settings, parsed once from the environment (a frozen value a test builds from a dict).

Where tasks are stored follows the item store (`ItemStoreSettings`): the same
SQLite file locally, the same DynamoDB table on Lambda (see `dynamo_store`).
How runs are executed: a local worker pool, unless `TASKS_WORKER_FUNCTION`
names the worker Lambda function (on Lambda without it, no tasks are served).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from app.core import env as env_values
from app.core.errors import ConfigurationError

#: Environment variables understood by `TaskSettings.from_env`, with their meaning.
ENV_DOC: dict[str, str] = {
    "TASKS_WORKER_FUNCTION": "Name or ARN of the task worker function (the template sets it; on Lambda without it, no tasks are served). "
    "Unset locally: runs go to an in-process pool.",
    "TASKS_ROLE": "`worker` in the task worker function (the template sets it): it runs tasks and starts none.",
    "TASKS_TTL_S": "How long a task stays readable after creation, seconds (default 3600; DynamoDB TTL deletes it later).",
    "TASKS_POLL_INTERVAL_MS": "pollIntervalMs suggested to clients (default 1000).",
    "TASKS_DISPATCH_TIMEOUT_S": "A run dispatched to the worker function and not claimed within this many seconds reads "
    "as failed, \"never started\" (default 300; the template sets the worker's maximum event age to the same value). "
    "Locally the in-process pool renews the window of what it holds queued, and a queue whose process died fails "
    "after `TASKS_LEASE_S`.",
    "TASKS_LEASE_S": "A running task without a heartbeat for this many seconds reads as failed (default 30).",
    "TASKS_HEARTBEAT_S": "Seconds between a run's heartbeats: lease renewal, progress write, cancel check (default 5).",
    "TASKS_LOCAL_WORKERS": "Local only: task runs executing at once in the in-process pool (default 4).",
    "TASKS_MAX_RUNTIME_S": "Local only: longest run, seconds (default 900; on Lambda the worker's timeout decides).",
    "TASKS_DEADLINE_MARGIN_S": "Kept free before the worker's Lambda timeout to record a timed-out run (default 5).",
}


@dataclass(frozen=True)
class TaskSettings:
    worker_function: str | None = None
    ttl_s: int = 3600
    poll_interval_ms: int = 1000
    dispatch_timeout_s: int = 300
    lease_s: float = 30.0
    heartbeat_s: float = 5.0
    local_workers: int = 4
    max_runtime_s: float = 900.0
    deadline_margin_s: float = 5.0
    on_lambda: bool = False
    #: True in the worker function: it runs task events and never dispatches one.
    is_worker: bool = False

    @property
    def runs_tasks(self) -> bool:
        """Whether this process can start or run tasks: on Lambda only with a worker function (or as the worker).

        A task must outlive the request that created it, which on Lambda only
        another invocation can do; without `TASKS_WORKER_FUNCTION` the API
        function serves no tasks (task-optional tools run synchronously).
        """
        return not self.on_lambda or bool(self.worker_function) or self.is_worker

    def __post_init__(self) -> None:
        if self.heartbeat_s * 2 > self.lease_s:
            raise ConfigurationError("TASKS_HEARTBEAT_S must be at most half of TASKS_LEASE_S (a late beat lapses)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TaskSettings:
        env = os.environ if environ is None else environ
        return cls(
            worker_function=env_values.text(env, "TASKS_WORKER_FUNCTION"),
            ttl_s=env_values.positive_int(env, "TASKS_TTL_S", 3600),
            poll_interval_ms=env_values.positive_int(env, "TASKS_POLL_INTERVAL_MS", 1000),
            dispatch_timeout_s=env_values.positive_int(env, "TASKS_DISPATCH_TIMEOUT_S", 300),
            lease_s=env_values.positive_float(env, "TASKS_LEASE_S", 30.0),
            heartbeat_s=env_values.positive_float(env, "TASKS_HEARTBEAT_S", 5.0),
            local_workers=env_values.positive_int(env, "TASKS_LOCAL_WORKERS", 4),
            max_runtime_s=env_values.positive_float(env, "TASKS_MAX_RUNTIME_S", 900.0),
            deadline_margin_s=env_values.positive_float(env, "TASKS_DEADLINE_MARGIN_S", 5.0),
            on_lambda=env_values.on_lambda(env),
            is_worker=(env_values.text(env, "TASKS_ROLE") or "api") == "worker",
        )

"""Builds the task runtime from settings, once per process: store, service, dispatcher, extension.

Composition order (the server needs the extension; a local pool's executor
needs the server):

    runtime = build_task_runtime(task_settings, store, lambda_client=…)   # store: a TaskStore adapter
    server = MCPServer(…, extensions=[runtime.extension])   # app.server.build_server
    runtime.attach(server)                                     # executor (and, on a bare server, the run middleware)

`runtime.run_middleware` is the task run's place in the server middleware chain:
the composition root (`app.main.server_chain`) puts it where it belongs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer

from app.tasks.config import TaskSettings
from app.tasks.dispatch import Dispatcher, LambdaInvoker, LocalWorkerPool
from app.tasks.execution import ExecutorSettings, TaskExecutor, TaskRunMiddleware
from app.tasks.extension import Tasks
from app.tasks.model import TaskRecord
from app.tasks.port import TaskStore
from app.tasks.service import TaskService, TaskTimings
from app.transport.sdk import install_middleware, installed, lowlevel_server

if TYPE_CHECKING:  # boto3/botocore load only when a client is built (cold start of the SQLite config)
    from botocore.client import BaseClient


def make_lambda_client(**overrides: Any) -> BaseClient:
    """A Lambda client for the asynchronous invoke: short timeouts, a few retries (the API answers in time)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client("lambda", config=config, **overrides)


def timings(settings: TaskSettings) -> TaskTimings:
    # Locally the in-process pool holds queued runs and renews their window (`LocalWorkerPool`), so a
    # lease's length is enough and a dead process's queue fails as fast as its running tasks. The
    # Lambda worker's event queue outlives any process: there the window is the maximum event age.
    local = not settings.worker_function and not settings.is_worker
    return TaskTimings(
        ttl_ms=settings.ttl_s * 1000,
        poll_interval_ms=settings.poll_interval_ms,
        dispatch_s=settings.lease_s if local else float(settings.dispatch_timeout_s),
        lease_s=settings.lease_s,
    )


@dataclass
class TaskRuntime:
    settings: TaskSettings
    service: TaskService
    dispatcher: Dispatcher
    extension: Tasks = field(init=False)
    executor: TaskExecutor | None = None
    authorize_tool: Callable[[str], None] | None = None
    #: Binds a task's run (its principal, stored answers, plaintext requestState) for the middleware inside it.
    run_middleware: TaskRunMiddleware = field(default_factory=TaskRunMiddleware)

    def __post_init__(self) -> None:
        self.extension = Tasks(self.service, self.dispatcher, authorize_tool=self.authorize_tool)

    def attach(self, server: MCPServer[Any]) -> TaskExecutor:
        """Wire the runtime into the built server: the executor (bound to a local pool), and the run
        middleware unless the server's chain has it already (a composed product declares its whole chain)."""
        core = lowlevel_server(server)
        if installed(core, TaskRunMiddleware) is None:
            install_middleware(core, self.run_middleware)
        self.executor = TaskExecutor(
            core,
            self.service,
            ExecutorSettings(heartbeat_s=self.settings.heartbeat_s, max_runtime_s=self.settings.max_runtime_s),
        )
        if isinstance(self.dispatcher, LocalWorkerPool):
            service = self.service
            self.dispatcher.bind(
                self.executor.execute,
                hold=lambda event: service.hold(event.principal_id, event.task_id, event.run),
                hold_every_s=self.settings.heartbeat_s,
            )
        return self.executor


def build_task_runtime(
    settings: TaskSettings,
    store: TaskStore,
    *,
    lambda_client: BaseClient | None = None,
    authorize_tool: Callable[[str], None] | None = None,
    on_change: Callable[[TaskRecord | None, TaskRecord], None] | None = None,
) -> TaskRuntime:
    service = TaskService(store, timings(settings), on_change=on_change)
    dispatcher: Dispatcher
    if settings.worker_function:
        dispatcher = LambdaInvoker(lambda_client or make_lambda_client(), settings.worker_function)
    else:
        dispatcher = LocalWorkerPool(settings.local_workers)
    return TaskRuntime(settings=settings, service=service, dispatcher=dispatcher, authorize_tool=authorize_tool)

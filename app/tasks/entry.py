"""The task worker of a built product: `worker.handler` is `build_product().task_worker()`, which calls this."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from app.core.errors import ConfigurationError
from app.tasks.worker import LambdaTaskWorker

if TYPE_CHECKING:
    from app.tasks.factory import TaskRuntime


class BuiltProduct(Protocol):
    """What the worker needs of a built product (`app.main.Product`): its task runtime, if any."""

    @property
    def tasks(self) -> TaskRuntime | None: ...


def worker_for(product: BuiltProduct) -> LambdaTaskWorker:
    """The worker handler of a built product (its `tasks` runtime, attached to its server)."""
    runtime = product.tasks
    if runtime is None or runtime.executor is None:
        raise ConfigurationError(
            "the product has no task runtime: app.main.build_product must build one "
            "(app.tasks.factory.build_task_runtime) and pass it to build_server(tasks=...)"
        )
    return LambdaTaskWorker(runtime.executor, deadline_margin_s=runtime.settings.deadline_margin_s)


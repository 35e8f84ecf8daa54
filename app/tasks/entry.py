"""The task worker's entry: the product, built like the API function's, and its task runtime's worker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import ConfigurationError
from app.tasks.worker import LambdaTaskWorker


def worker_for(product: Any) -> LambdaTaskWorker:
    """The worker handler of a built product (its `tasks` runtime, attached to its server)."""
    runtime = getattr(product, "tasks", None)
    if runtime is None or runtime.executor is None:
        raise ConfigurationError(
            "the product has no task runtime: app.main.build_product must build one "
            "(app.tasks.factory.build_task_runtime) and pass it to build_server(tasks=...)"
        )
    return LambdaTaskWorker(runtime.executor, deadline_margin_s=runtime.settings.deadline_margin_s)


def build_worker(environ: Mapping[str, str] | None = None) -> LambdaTaskWorker:
    from app.main import build_product  # the composition root imports this module: resolved at call time

    return build_product(environ).task_worker()

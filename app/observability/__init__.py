"""Production observability: structured logs, EMF metrics and X-Ray, wired in two places.

    observability = Observability.build(ObservabilitySettings.from_env(environ), known_method=..., known_tool=...)
    chain = [observability.middleware, ...]                   # per MCP request: heads the server chain
    handler = observability.wrap(handler)                     # per Lambda invocation
    observability.configure_logging(stream=..., terminal=...) # per entry point: where its lines go

The composition root (`app.main`) does all three; nothing else imports this package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import IO

from app.observability.audit import AuditLog, TaskFailureMetric
from app.observability.config import ENV_DOC, ObservabilitySettings
from app.observability.lambda_wrapper import LambdaHandler, ObservedHandler
from app.observability.logs import configure_logging, reset_logging
from app.observability.metrics import InvocationMetrics
from app.observability.middleware import RequestObserver
from app.observability.tracing import ToolTracing

logger = logging.getLogger(__name__)

__all__ = [
    "ENV_DOC",
    "AuditLog",
    "TaskFailureMetric",
    "Observability",
    "ObservabilitySettings",
    "ObservedHandler",
    "RequestObserver",
    "configure_logging",
    "reset_logging",
]


def _tool_tracing(service: str) -> ToolTracing | None:
    try:
        return ToolTracing(service)
    except ImportError as exc:  # aws-xray-sdk is not in the artifact: serve untraced rather than not at all
        logger.warning("X-Ray tracing is off: a module it needs is missing", extra={"missing_module": exc.name})
        return None


@dataclass(frozen=True)
class Observability:
    """The pieces built from one `ObservabilitySettings`, shared by the middleware and the wrapper."""

    settings: ObservabilitySettings
    middleware: RequestObserver
    metrics: InvocationMetrics | None
    tracing: ToolTracing | None

    @classmethod
    def build(
        cls,
        settings: ObservabilitySettings,
        *,
        known_method: Callable[[str], bool],
        known_tool: Callable[[str], bool],
        audit: AuditLog | None = None,
    ) -> Observability:
        """Build metrics, tracing and the request observer. Once per process (logging: `configure_logging`)."""
        metrics = (
            InvocationMetrics(settings.namespace, settings.service, known_method=known_method, known_tool=known_tool)
            if settings.metrics
            else None
        )
        tracing = _tool_tracing(settings.service) if settings.tracing else None
        middleware = RequestObserver(
            access_log=settings.access_log,
            log_arguments=settings.log_arguments,
            metrics=metrics,
            tracing=tracing,
            audit=audit,
        )
        return cls(settings=settings, middleware=middleware, metrics=metrics, tracing=tracing)

    def configure_logging(self, *, stream: IO[str] | None = None, terminal: bool = False) -> None:
        """Send the app's logs to `stream` (default stdout on Lambda, stderr elsewhere) in this product's format.

        `terminal`: off Lambda, plain text for a person (`make run`, `make stdio`); see `app.observability.logs`.
        """
        configure_logging(self.settings, stream=stream, terminal=terminal)

    def wrap(self, handler: LambdaHandler) -> ObservedHandler:
        """The Lambda handler with correlation ids and a per-invocation metrics flush."""
        return ObservedHandler(handler, self.metrics)

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """Requests served inside are not invocations: no metrics, no X-Ray, no audit (SnapStart priming)."""
        audit = self.middleware.audit
        with self.tracing.suspended() if self.tracing is not None else nullcontext():
            if self.metrics is not None:
                self.metrics.suspended = True
            if audit is not None:
                audit.suspended = True
            try:
                yield
            finally:
                if audit is not None:
                    audit.suspended = False
                if self.metrics is not None:
                    self.metrics.suspended = False
                    self.metrics.discard()

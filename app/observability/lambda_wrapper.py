"""`ObservedHandler`: the Lambda-level half, around the Lambda handler.

Per invocation: the Lambda and API Gateway request ids into the log context,
then the handler, then one EMF flush (ColdStart on the first invocation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from app.observability.logs import invocation_fields
from app.observability.metrics import InvocationMetrics

if TYPE_CHECKING:  # Lambda's context, typed by Mangum's Protocol (the one the app uses); no import at run time
    from mangum.types import LambdaContext

LambdaHandler = Callable[[dict[str, Any], "LambdaContext | None"], dict[str, Any]]


def _apigw_request_id(event: Any) -> str | None:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return request_id if isinstance(request_id, str) else None


class ObservedHandler:
    """`handler(event, context)` with correlation fields and a metrics flush around `inner`."""

    def __init__(self, inner: LambdaHandler, metrics: InvocationMetrics | None = None) -> None:
        self.inner = inner
        self.metrics = metrics
        #: True until the first invocation of this execution environment (or of a SnapStart restore of it).
        self.cold = True

    def __call__(self, event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        cold, self.cold = self.cold, False
        token = invocation_fields.set(
            {
                "function_request_id": context.aws_request_id if context is not None else None,
                "apigw_request_id": _apigw_request_id(event),
                "cold_start": cold,
            }
        )
        try:
            return self.inner(event, context)
        finally:
            invocation_fields.reset(token)
            if self.metrics is not None:
                self.metrics.flush(context, cold_start=cold)

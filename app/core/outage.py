"""An outage of a backing service (DynamoDB, SSM), logged once instead of once per failed call.

Standard library only, so the pure secret cache (`app.auth.cache`) and the
botocore adapters (`app.core.dynamodb_errors`) share one mechanism: a thousand
refused requests during one outage are a few lines, not a thousand.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

#: While a service stays unavailable, at most one WARNING per this many seconds.
OUTAGE_LOG_INTERVAL_S = 60.0


class OutageLog:
    """Log an outage once, not once per failed call.

    The first failure logs a WARNING; while failures go on, at most one more
    per `interval` seconds, carrying how many were not logged. The first
    success after a failure logs one INFO. A success costs one attribute read.
    Lines go to `logger` (each user passes its own, so they keep their source);
    `service` names what is down in the fixed message text, `context` adds
    fields of our own (never client text) to every line.
    """

    def __init__(
        self,
        interval: float = OUTAGE_LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        *,
        logger: logging.Logger | None = None,
        service: str = "dynamodb",
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._logger = logger or logging.getLogger("app.core.dynamodb_errors")
        self._down = f"{service} unavailable"
        self._up = f"{service} available again"
        self._context = dict(context or {})
        self._lock = threading.Lock()
        self._failing = False
        self._next_warning = -math.inf
        self._unlogged = 0

    def failed(self, operation: str, code: str | None) -> None:
        with self._lock:
            now = self._clock()
            self._failing = True
            if now < self._next_warning:
                self._unlogged += 1
                return
            unlogged, self._unlogged = self._unlogged, 0
            self._next_warning = now + self._interval
        self._logger.warning(
            self._down,
            extra={**self._context, "operation": operation, "error_code": code, "failures_not_logged": unlogged or None},
        )

    def succeeded(self) -> None:
        if not self._failing:
            return
        with self._lock:
            if not self._failing:
                return
            unlogged, self._unlogged = self._unlogged, 0
            self._failing = False
            self._next_warning = -math.inf  # the next outage is logged at once
        self._logger.info(self._up, extra={**self._context, "failures_not_logged": unlogged})

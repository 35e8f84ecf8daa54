"""botocore failures of a DynamoDB call, as the domain sees them: shared by the item and task adapters.

Throttling that outlasts botocore's own retries, and every transport failure
(connection refused, closed or reset mid-response, connect or read timeout:
botocore's `HTTPClientError` and `ConnectionError` families) become
`StoreUnavailable`, which agents read as "busy; retry the same call". Any
other `ClientError` propagates to the adapter, which maps the codes it
expects (a failed condition, a cancelled transaction) by code, never by
message text. An outage is logged by `OutageLog`: one WARNING without a
traceback, then at most one per interval with the count in between, and one
INFO when a call succeeds again: a thousand failing calls are not a thousand lines.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from app.errors import StoreUnavailable

#: ClientError codes meaning "busy, try again later" (botocore has already retried them).
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
#: Transport failures: HTTPClientError (ConnectionClosedError, ReadTimeoutError, ResponseStreamingError)
#: and ConnectionError (EndpointConnectionError, ConnectTimeoutError, SSLError, ProxyConnectionError).
NETWORK_ERRORS = (HTTPClientError, BotocoreConnectionError)
#: While the store stays unavailable, at most one WARNING per this many seconds.
OUTAGE_LOG_INTERVAL_S = 60.0


def error_code(err: ClientError) -> str:
    """The `ClientError`'s code ("" when the response carries none)."""
    return str(err.response.get("Error", {}).get("Code", ""))


class OutageLog:
    """Log an outage once, not once per failed call.

    The first failure logs a WARNING; while failures go on, at most one more
    per `interval` seconds, carrying how many were not logged. The first
    success after a failure logs one INFO. A success costs one attribute read.
    Lines go to `logger` (each adapter passes its own, so they keep their source).
    """

    def __init__(
        self,
        interval: float = OUTAGE_LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        *,
        logger: logging.Logger | None = None,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._logger = logger or logging.getLogger(__name__)
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
            "dynamodb unavailable",
            extra={"operation": operation, "error_code": code, "failures_not_logged": unlogged or None},
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
        self._logger.info("dynamodb available again", extra={"failures_not_logged": unlogged})


def call(client: BaseClient, operation: str, outages: OutageLog, busy: str, **kwargs: Any) -> dict[str, Any]:
    """Run one API call; throttling and network trouble become `StoreUnavailable(busy)` (logged by
    `outages`), every other `ClientError` propagates."""
    try:
        response: dict[str, Any] = getattr(client, operation)(**kwargs)
    except ClientError as err:
        code = error_code(err)
        if code in RETRYABLE_CODES:
            outages.failed(operation, code)
            raise StoreUnavailable(busy) from err
        raise
    except NETWORK_ERRORS as err:
        outages.failed(operation, type(err).__name__)
        raise StoreUnavailable(busy) from err
    outages.succeeded()
    return response

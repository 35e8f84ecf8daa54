"""botocore failures of a DynamoDB call, as the domain sees them: shared by the item and task adapters.

Throttling that outlasts botocore's own retries, and every transport failure
(connection refused, closed or reset mid-response, connect or read timeout:
botocore's `HTTPClientError` and `ConnectionError` families; a response whose
`x-amz-crc32` does not match, or an empty or non-JSON success) become
`StoreUnavailable`, which agents read as "busy; retry the same call". Any
other `ClientError` propagates to the adapter, which maps the codes it
expects (a failed condition, a cancelled transaction) by code, never by
message text. An outage is logged by `OutageLog`: one WARNING without a
traceback, then at most one per interval with the count in between, and one
INFO when a call succeeds again: a thousand failing calls are not a thousand lines.
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from app.core.dynamodb_integrity import CorruptResponse
from app.core.errors import StoreUnavailable
from app.core.outage import OUTAGE_LOG_INTERVAL_S, OutageLog

__all__ = [
    "NETWORK_ERRORS", "OUTAGE_LOG_INTERVAL_S", "RETRYABLE_CODES", "OutageLog", "call", "conditional", "error_code",
]  # fmt: skip

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
#: A response that fails its integrity check (app.core.dynamodb_integrity) is one of them: a body cut or
#: garbled on the way is a transport failure, never "not found".
NETWORK_ERRORS = (HTTPClientError, BotocoreConnectionError, CorruptResponse)


def error_code(err: ClientError) -> str:
    """The `ClientError`'s code ("" when the response carries none)."""
    return str(err.response.get("Error", {}).get("Code", ""))


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


def conditional(write: Any, operation: str, **kwargs: Any) -> bool:
    """Run a conditional write through `write(operation, **kwargs)`; False when its condition failed."""
    try:
        write(operation, **kwargs)
    except ClientError as err:
        if error_code(err) != "ConditionalCheckFailedException":
            raise
        return False
    return True

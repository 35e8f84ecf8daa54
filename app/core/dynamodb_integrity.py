"""Every DynamoDB response is checked before it is believed: a damaged one is an outage, never an answer.

Why by hand: botocore's standard and adaptive retry modes (the ones we use) *retry* a
response whose `x-amz-crc32` header does not match its body
(`botocore.retries.special.RetryDDBChecksumError`), but when the last attempt still does
not match they hand its parsed body to the caller as a success; and a `200` whose body is
empty, not JSON or cut short parses as `{}` (botocore drops what it cannot read). A cut or garbled `GetItem`
would then read as "not found", a `Query` as an empty page. Nothing in botocore raises for
either, so one `after-call` handler on the DynamoDB client does: it raises
`CorruptResponse`, which `app.core.dynamodb_errors` turns into `StoreUnavailable` ("busy; retry
the same call"), like any other transport failure.

Cost: one `zlib.crc32` over a body botocore already holds in memory, on every call.
"""

from __future__ import annotations

import zlib
from typing import Any

from botocore.exceptions import BotoCoreError

#: DynamoDB signs every JSON response body with this header (CRC32 of the bytes as sent).
CRC32_HEADER = "x-amz-crc32"


class CorruptResponse(BotoCoreError):
    """A DynamoDB response that fails its integrity check (after botocore's own retries)."""

    fmt = "DynamoDB answered {operation} with a damaged response: {reason}"


def check_response(http_response: Any, model: Any, **_: Any) -> None:
    """`after-call.dynamodb` handler: raise `CorruptResponse` for a body that is not what DynamoDB sent."""
    body: bytes = http_response.content
    expected = http_response.headers.get(CRC32_HEADER)
    if expected is not None:
        actual = zlib.crc32(body) & 0xFFFFFFFF
        if not expected.isdigit() or int(expected) != actual:
            raise CorruptResponse(operation=model.name, reason="x-amz-crc32 does not match the body")
    if http_response.status_code < 300:
        # Every DynamoDB success is one JSON object, "{}" at the least. botocore parses an empty
        # body as {} and drops a body that is not JSON: both would read as an empty success. Its
        # two ends tell a whole object from an empty, foreign or cut one without parsing it again.
        stripped = body.strip()
        if not stripped:
            raise CorruptResponse(operation=model.name, reason="empty body")
        if stripped[:1] != b"{" or stripped[-1:] != b"}":
            raise CorruptResponse(operation=model.name, reason="the body is not one JSON object")


def verify_responses(client: Any) -> Any:
    """Install the check on a DynamoDB client (once, where it is built); returns the client."""
    client.meta.events.register("after-call.dynamodb", check_response, unique_id="mcp-lambda-dynamodb-integrity")
    return client

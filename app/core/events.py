"""Synthetic Lambda inputs: a context object and API Gateway HTTP API events.

One place for everything that pretends to be Lambda: SnapStart priming, `make
invoke`, the benchmarks, the artifact smoke and cold-start scripts (which
import it from the built artifact) and the tests. Standard library only, so
it imports in any of those interpreters at no cost.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final

HANDSHAKE_VERSION: Final = "2025-11-25"
MODERN_VERSION: Final = "2026-07-28"
REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"
API_ID: Final = "abc123"
HOST: Final = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
ACCEPT: Final = "application/json, text/event-stream"


class FakeLambdaContext:
    """The parts of Lambda's context object Mangum, Powertools and the app read, with a real deadline."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(
        self,
        timeout_s: float = 25.0,
        *,
        function_name: str = "mcp-lambda-local",
        request_id: str | None = None,
        memory_limit_in_mb: int = 1024,
    ) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def modern_meta(client_name: str = "mcp-lambda", capabilities: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The 2026-07-28 per-request envelope (`params._meta`)."""
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": dict(capabilities or {}),
        "io.modelcontextprotocol/clientInfo": {"name": client_name, "version": "1"},
    }


def http_api_event(
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    path: str = "/mcp",
    method: str = "POST",
    host: str = HOST,
    stage: str = "$default",
    request_id: str = "JKJaXmPLvHcESHA=",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event. Header names are lowercased, as API Gateway does."""
    if isinstance(body, Mapping):
        body = json.dumps(body, separators=(",", ":"))
    raw = body.encode() if isinstance(body, str) else (body or b"")
    hdrs = {
        "accept": ACCEPT,
        "content-type": "application/json",
        "content-length": str(len(raw)),
        "host": host,
        "user-agent": "mcp-lambda-events/1.0",
        "x-amzn-trace-id": "Root=1-00000000-000000000000000000000000",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    for name, value in (headers or {}).items():
        hdrs[name.lower()] = value
    route = "$default" if stage == "$default" else f"{method} {path}"
    return {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "mcp-lambda-events/1.0",
            },
            "requestId": request_id,
            "routeKey": route,
            "stage": stage,
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": raw.decode(),
        "isBase64Encoded": False,
    }

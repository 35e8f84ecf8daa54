"""API Gateway HTTP API (payload v2) events, a fake Lambda context, and response checks.

Stdlib only: the cold-start child imports nothing of this before its timed import.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

API_ID = "abc123defg"
REGION = "us-east-1"
HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
ACCEPT = "application/json, text/event-stream"

#: What a handshake-era client sends on every request after `initialize`.
HANDSHAKE_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
MODERN_META: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
}


class FakeLambdaContext:
    """Just enough of `awslambdaric`'s LambdaContext for Mangum and the project."""

    function_name = "mcp-bench"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:mcp-bench"
    memory_limit_in_mb = 1024
    aws_request_id = "8f5c3c9e-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/mcp-bench"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"
    identity = None
    client_context = None

    def __init__(self, remaining_ms: int = 30_000) -> None:
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def http_api_event(
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    path: str = "/mcp",
    method: str = "POST",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, `$default` stage."""
    if isinstance(body, Mapping):
        body = json.dumps(body, separators=(",", ":"))
    raw = body.encode() if isinstance(body, str) else (body or b"")
    hdrs = {
        "accept": ACCEPT,
        "content-type": "application/json",
        "content-length": str(len(raw)),
        "host": HOST,
        "user-agent": "mcp-bench/1.0",
        "x-amzn-trace-id": "Root=1-00000000-000000000000000000000000",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    for name, value in (headers or {}).items():
        hdrs[name.lower()] = value
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": HOST,
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "mcp-bench/1.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "body": raw.decode(),
        "isBase64Encoded": False,
    }


def rpc(method: str, params: Mapping[str, Any] | None = None, request_id: int | str = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = dict(params)
    return message


def initialize_event(extra_headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    params = {
        "protocolVersion": HANDSHAKE_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "mcp-bench", "version": "1.0"},
    }
    return http_api_event(rpc("initialize", params, 1), extra_headers)


def tools_call_event(
    name: str, arguments: Mapping[str, Any], extra_headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A handshake-era `tools/call`, as a client sends it after `initialize`."""
    headers = {"mcp-protocol-version": HANDSHAKE_VERSION, **(extra_headers or {})}
    return http_api_event(rpc("tools/call", {"name": name, "arguments": dict(arguments)}, 2), headers)


def modern_tools_call_event(
    name: str, arguments: Mapping[str, Any], extra_headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A 2026-07-28 `tools/call`: self-contained, routing headers mirror the body."""
    headers = {
        "mcp-protocol-version": MODERN_VERSION,
        "mcp-method": "tools/call",
        "mcp-name": name,
        **(extra_headers or {}),
    }
    params = {"name": name, "arguments": dict(arguments), "_meta": dict(MODERN_META)}
    return http_api_event(rpc("tools/call", params, 3), headers)


# -- responses -------------------------------------------------------------


def response_message(response: Mapping[str, Any]) -> tuple[int, dict[str, Any] | None, str]:
    """(HTTP status, the JSON-RPC message or None, content-type) of a Mangum response.

    Accepts a JSON body or a buffered SSE stream (the last `data:` message wins).
    """
    status = int(response.get("statusCode", 0))
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    ctype = headers.get("content-type", "")
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    message: dict[str, Any] | None = None
    try:
        if ctype.startswith("text/event-stream"):
            for line in body.splitlines():
                if line.startswith("data:"):
                    message = json.loads(line[5:].strip())
        elif body:
            message = json.loads(body)
    except ValueError:
        message = None
    return status, message, ctype


def check_tool_text(expected: str):
    """A checker: 200, a JSON-RPC result, not an error, first content block's text == expected."""

    def check(response: Mapping[str, Any]) -> str | None:
        status, message, _ = response_message(response)
        if status != 200:
            return f"HTTP {status}: {str(response.get('body'))[:300]}"
        if not message or "result" not in message:
            return f"no JSON-RPC result: {str(response.get('body'))[:300]}"
        result = message["result"]
        if result.get("isError"):
            return f"tool error: {json.dumps(result)[:300]}"
        content = result.get("content") or []
        text = content[0].get("text") if content and isinstance(content[0], dict) else None
        if text != expected:
            return f"expected text {expected!r}, got {text!r}"
        return None

    return check


def check_initialize(response: Mapping[str, Any]) -> str | None:
    status, message, _ = response_message(response)
    if status != 200:
        return f"HTTP {status}: {str(response.get('body'))[:300]}"
    if not message or "result" not in message:
        return f"no JSON-RPC result: {str(response.get('body'))[:300]}"
    result = message["result"]
    if not isinstance(result.get("protocolVersion"), str) or "serverInfo" not in result:
        return f"not an InitializeResult: {json.dumps(result)[:300]}"
    if "tools" not in (result.get("capabilities") or {}):
        return "InitializeResult does not advertise tools"
    return None

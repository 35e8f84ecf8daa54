"""API Gateway HTTP API (payload v2) events, a fake Lambda context, and response checks.

Stdlib only: the cold-start child imports nothing of this before its timed import.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from app.core.events import ACCEPT, HANDSHAKE_VERSION, HOST, MODERN_VERSION, FakeLambdaContext, http_api_event, modern_meta

MODERN_META: dict[str, Any] = modern_meta("mcp-bench")

__all__ = ["ACCEPT", "HANDSHAKE_VERSION", "HOST", "MODERN_VERSION", "FakeLambdaContext", "http_api_event"]


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


def json_rpc_result(response: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The JSON-RPC `result` of a 200 response, or ({}, why there is none)."""
    status, message, _ = response_message(response)
    if status != 200:
        return {}, f"HTTP {status}: {str(response.get('body'))[:300]}"
    if not message or "result" not in message:
        return {}, f"no JSON-RPC result: {str(response.get('body'))[:300]}"
    return message["result"], None


def check_tool_text(expected: str):
    """A checker: 200, a JSON-RPC result, not an error, first content block's text == expected."""

    def check(response: Mapping[str, Any]) -> str | None:
        result, problem = json_rpc_result(response)
        if problem:
            return problem
        if result.get("isError"):
            return f"tool error: {json.dumps(result)[:300]}"
        content = result.get("content") or []
        text = content[0].get("text") if content and isinstance(content[0], dict) else None
        if text != expected:
            return f"expected text {expected!r}, got {text!r}"
        return None

    return check


def check_initialize(response: Mapping[str, Any]) -> str | None:
    result, problem = json_rpc_result(response)
    if problem:
        return problem
    if not isinstance(result.get("protocolVersion"), str) or "serverInfo" not in result:
        return f"not an InitializeResult: {json.dumps(result)[:300]}"
    if "tools" not in (result.get("capabilities") or {}):
        return "InitializeResult does not advertise tools"
    return None

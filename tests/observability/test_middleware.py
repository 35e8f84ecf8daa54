"""The request observer (app.observability.middleware): one access line per request, its fields and outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.observability import (
    reset_logging,
)

from .support import (
    Observed,
    event,
    observe,
    with_body,
)


def test_access_line_of_a_tools_call_carries_every_correlation_field(observed: Observed) -> None:
    response = observed.invoke(event("http-v2-tools-call"), request_id="lambda-req-42")
    assert response["statusCode"] == 200
    (line,) = observed.access()
    assert line["level"] == "INFO"
    assert line["message"].startswith("tools/call add: ok")
    assert line["service"] == "mcp-test"
    assert line["function_name"] == "mcp-fn"
    assert line["function_request_id"] == "lambda-req-42"
    assert line["apigw_request_id"] == "v2-tools-call"
    assert line["cold_start"] is True
    assert line["jsonrpc_id"] == 3
    assert line["mcp_method"] == "tools/call"
    assert line["mcp_tool"] == "add"
    assert line["protocol_version"] == "2025-11-25"
    assert line["principal_id"] == "local-dev-key"
    assert line["outcome"] == "ok"
    assert line["duration_ms"] > 0
    assert "error_code" not in line and "tool_arguments" not in line and "client_name" not in line

def test_one_access_line_per_request_and_cold_start_only_first(observed: Observed) -> None:
    observed.invoke(event("http-v2-tools-call"))
    observed.invoke(event("http-v2-tools-list"))
    lines = observed.access()
    assert [line["mcp_method"] for line in lines] == ["tools/call", "tools/list"]
    assert [line["cold_start"] for line in lines] == [True, False]
    assert [line["function_request_id"] for line in lines] == ["req-1", "req-2"]

def test_client_name_from_initialize_and_from_the_modern_envelope(observed: Observed) -> None:
    observed.invoke(event("http-v2-initialize"))
    observed.invoke(event("http-v2-modern-tools-call"))
    observed.invoke(event("http-v2-tools-list"))  # handshake era, not initialize: nobody said who they are
    initialize, modern, listing = observed.access()
    assert initialize["client_name"] == "events" and initialize["mcp_method"] == "initialize"
    assert modern["client_name"] == "events" and modern["protocol_version"] == "2026-07-28"
    assert modern["mcp_tool"] == "echo"
    assert "client_name" not in listing

@pytest.mark.parametrize(
    ("body", "outcome", "code"),
    [
        ({"method": "tools/call", "params": {"name": "add", "arguments": {"a": "x", "b": 1}}}, "tool_error", None),
        ({"method": "tools/call", "params": {"name": "nope", "arguments": {}}}, "error", -32602),
        ({"method": "no/such/method", "params": {}}, "error", -32601),
    ],
    ids=["isError-result", "unknown-tool", "unknown-method"],
)
def test_failures_are_logged_with_their_outcome(
    observed: Observed, body: dict[str, Any], outcome: str, code: int | None
) -> None:
    observed.invoke(with_body("http-v2-tools-call", {"jsonrpc": "2.0", "id": 9, **body}))
    (line,) = observed.access()
    assert line["outcome"] == outcome
    assert line.get("error_code") == code

def test_tool_arguments_are_logged_only_when_configured(tmp_path: Path) -> None:
    default = observe(tmp_path)
    default.invoke(event("http-v2-tools-call"))
    assert "tool_arguments" not in default.access()[0]
    reset_logging()
    opted_in = observe(tmp_path, {"MCP_LOG_ARGUMENTS": "true"})
    opted_in.invoke(event("http-v2-tools-call"))
    assert opted_in.access()[0]["tool_arguments"] == {"a": 2, "b": 3}

def test_access_log_can_be_switched_off(tmp_path: Path) -> None:
    quiet = observe(tmp_path, {"MCP_ACCESS_LOG": "false"})
    quiet.invoke(event("http-v2-tools-call"))
    assert quiet.access() == []

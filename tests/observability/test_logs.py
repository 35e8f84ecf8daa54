"""Logging (app.observability.logs): request fields on every line, JSON on Lambda, plain text locally, no credential."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from app.main import build_product
from app.observability import (
    ObservabilitySettings,
    configure_logging,
)
from app.transport.sdk import lowlevel_server

from .support import (
    DEV_KEY,
    EVENTS,
    LAMBDA_LIKE,
    FakeContext,
    Observed,
    event,
)


def test_log_lines_inside_a_request_carry_its_fields(observed: Observed) -> None:
    # Any app logger used while the request runs gets the same correlation fields.
    core = lowlevel_server(observed.product.server)

    async def logs_something(ctx: Any, call_next: Any) -> Any:
        logging.getLogger("app.tools.example").warning("inside the tool call")
        return await call_next(ctx)

    core.middleware.append(logs_something)
    try:
        observed.invoke(event("http-v2-tools-call"), request_id="inner-1")
    finally:
        core.middleware.remove(logs_something)
    (line,) = [line for line in observed.lines() if line["message"] == "inside the tool call"]
    assert line["level"] == "WARNING"
    assert line["function_request_id"] == "inner-1" and line["apigw_request_id"] == "v2-tools-call"
    assert line["mcp_method"] == "tools/call" and line["mcp_tool"] == "add" and line["jsonrpc_id"] == 3

def test_no_credential_in_any_log_or_metric_output(observed: Observed, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = [DEV_KEY, "wrong-key-but-still-a-secret-0123"]
    for path in sorted(EVENTS.glob("http-v2-*.json")):
        observed.invoke(json.loads(path.read_text()))
    refused = event("http-v2-tools-call")
    refused["headers"]["authorization"] = f"Bearer {secrets[1]}"
    assert observed.invoke(refused)["statusCode"] == 403  # a key not accepted
    output = observed.logs.getvalue() + capsys.readouterr().out
    assert len(observed.access()) >= 5
    for secret in secrets:
        assert secret not in output
    assert "Bearer" not in output and "authorization" not in output.lower()

def test_plain_text_logs_off_lambda(tmp_path: Path) -> None:
    logs = io.StringIO()
    product = build_product(
        {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "i.sqlite3")}, log_stream=logs
    )
    product.lambda_handler()(event("http-v2-tools-call"), FakeContext())
    (line,) = [line for line in logs.getvalue().splitlines() if "app.access" in line]
    assert " INFO app.access: tools/call add: ok (" in line
    assert "principal_id=local-dev-key" in line and "apigw_request_id=v2-tools-call" in line
    with pytest.raises(ValueError):
        json.loads(line)

def test_host_logging_is_left_alone_off_lambda_without_a_stream() -> None:
    assert configure_logging(ObservabilitySettings()) is None
    assert logging.getLogger("app").propagate is True

def test_json_fast_path_prints_what_powertools_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from app.observability.logs import JsonFormatter

    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    settings = ObservabilitySettings.from_env(LAMBDA_LIKE)
    ours = JsonFormatter(settings)
    theirs = LambdaPowertoolsFormatter(
        utc=True, use_rfc3339=True, service=settings.service, name="%(name)s", **dict(settings.function_keys)
    )
    record = logging.getLogger("app.access").makeRecord(
        "app.access", logging.INFO, __file__, 1, "%s: %s", ("tools/call", "ok"), None, "fn",
        {"jsonrpc_id": 3, "mcp_tool": "add", "client_name": None, "cold_start": False, "tool_arguments": {"a": [1]}},
    )  # fmt: skip
    assert ours.format(record) == theirs.format(record)

    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.getLogger("app.x").makeRecord(
            "app.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info(), "fn", None
        )
    line = json.loads(ours.format(failed))  # Powertools' own path: exception fields included
    assert line["exception_name"] == "ValueError" and "boom" in line["exception"]

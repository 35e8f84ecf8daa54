"""The MCP SDK's own log lines go through the app's logging (issue 8, item 7).

A failed tool call makes the SDK log `Tool 'x' failed: ...`. On Lambda that
line must be JSON with the correlation fields (not the runtime's plain root
handler), plain text under `make run`, and must not quote the caller's data
unless MCP_LOG_ARGUMENTS is on. Driven through the real Lambda handler with
the committed API Gateway events; a root handler stands in for the Lambda
runtime's own.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.events import FakeLambdaContext
from app.main import build_product
from app.observability import ObservabilitySettings, reset_logging
from app.observability.sanitize import SDK_ARGUMENT_TEMPLATES

EVENTS = Path(__file__).resolve().parents[2] / "events"
DEV_KEY = "local-dev-key-for-events"
LAMBDA_LIKE = {"AWS_LAMBDA_FUNCTION_NAME": "mcp-fn", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
#: The item id the committed items_get event asks for: the caller's data, absent from the store.
ASKED_ID = "01a1fb000000notAnItemOfYours000000"
SDK_SERVER_LOGGER = "mcp.server.mcpserver.server"


def FakeContext() -> FakeLambdaContext:  # noqa: N802 - reads like the class it stands for
    return FakeLambdaContext(20.0, function_name="mcp-fn", request_id="lambda-req-1")


@pytest.fixture
def runtime_root() -> Iterator[io.StringIO]:
    """What the Lambda runtime installs before the handler is imported: a plain root handler."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        reset_logging()


def handler_for(tmp_path: Path, logs: io.StringIO, *, on_lambda: bool, extra: dict[str, str] | None = None) -> Any:
    product = build_product(
        {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")},
        log_stream=logs,
        observability=ObservabilitySettings.from_env({**LAMBDA_LIKE, **(extra or {})}) if on_lambda else None,
    )
    return product.lambda_build().handler if on_lambda else product.lambda_handler()


def items_get_event() -> dict[str, Any]:
    return copy.deepcopy(json.loads((EVENTS / "http-v2-items-get.json").read_text()))


def test_sdk_tool_failure_line_is_json_with_correlation_fields_on_lambda(
    tmp_path: Path, runtime_root: io.StringIO
) -> None:
    logs = io.StringIO()
    handler = handler_for(tmp_path, logs, on_lambda=True)
    response = handler(items_get_event(), FakeContext())
    assert json.loads(response["body"])["result"]["isError"] is True
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    (failed,) = [line for line in lines if line["name"] == SDK_SERVER_LOGGER]
    assert failed["message"].startswith("Tool 'items_get' failed: ")
    assert failed["level"] == "INFO" and failed["service"] == "mcp-lambda"
    assert failed["function_request_id"] == "lambda-req-1" and failed["apigw_request_id"]
    assert failed["jsonrpc_id"] == 11 and failed["mcp_tool"] == "items_get"
    # Nothing reaches the runtime's plain-text root handler any more.
    assert runtime_root.getvalue() == ""


def test_sdk_tool_failure_line_does_not_quote_arguments_unless_configured(
    tmp_path: Path, runtime_root: io.StringIO
) -> None:
    logs = io.StringIO()
    handler_for(tmp_path, logs, on_lambda=True)(items_get_event(), FakeContext())
    assert "Tool 'items_get' failed: '<withheld: MCP_LOG_ARGUMENTS is off>'" in logs.getvalue()
    assert ASKED_ID not in logs.getvalue() + runtime_root.getvalue()

    reset_logging()
    opted_in = io.StringIO()
    handler_for(tmp_path, opted_in, on_lambda=True, extra={"MCP_LOG_ARGUMENTS": "true"})(items_get_event(), FakeContext())
    (failed,) = [json.loads(line) for line in opted_in.getvalue().splitlines() if SDK_SERVER_LOGGER in line]
    assert ASKED_ID in failed["message"]


def test_sdk_lines_are_plain_text_with_the_apps_format_locally(tmp_path: Path, runtime_root: io.StringIO) -> None:
    logs = io.StringIO()
    handler_for(tmp_path, logs, on_lambda=False)(items_get_event(), FakeContext())
    (line,) = [line for line in logs.getvalue().splitlines() if SDK_SERVER_LOGGER in line]
    assert f" INFO {SDK_SERVER_LOGGER}: Tool 'items_get' failed: '<withheld: MCP_LOG_ARGUMENTS is off>'" in line
    assert "jsonrpc_id=11" in line and "mcp_tool=items_get" in line
    assert ASKED_ID not in logs.getvalue() and runtime_root.getvalue() == ""


def test_resource_failure_line_withholds_the_error_but_keeps_the_uri(tmp_path: Path, runtime_root: io.StringIO) -> None:
    logs = io.StringIO()
    event = items_get_event()
    uri = f"items://{ASKED_ID}"
    event["body"] = json.dumps({"jsonrpc": "2.0", "id": 4, "method": "resources/read", "params": {"uri": uri}})
    handler_for(tmp_path, logs, on_lambda=True)(event, FakeContext())
    (failed,) = [json.loads(line) for line in logs.getvalue().splitlines() if SDK_SERVER_LOGGER in line]
    assert failed["message"] == f"Resource '{uri}' failed: '<withheld: MCP_LOG_ARGUMENTS is off>'"
    assert failed["jsonrpc_id"] == 4


def test_sdk_templates_that_quote_the_caller_are_still_the_sdks() -> None:
    """The filter matches the SDK's format strings; if an SDK upgrade changes them, say so here."""
    import inspect

    from mcp.server.mcpserver import server as sdk_server

    source = inspect.getsource(sdk_server)
    for template in SDK_ARGUMENT_TEMPLATES:
        assert f'"{template}"' in source, template

"""Audit records (issue 16, item 5): one JSON line per tool call and per task transition, apart from the access log.

Through the product's Lambda handler fed the committed HTTP API events (JSON logs as
on Lambda), and through the product's own task service for transitions.
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from app.main import build_product
from app.observability import ObservabilitySettings
from app.observability.audit import LOG_TYPE, AuditLog, TaskFailureMetric
from app.tasks.service import TaskService
from app.core.principal import LOCAL_DEVELOPER
from app.tasks.model import Owner

from .support import DEV_KEY, LAMBDA_LIKE, Observed, emf, with_body

MODERN = "2026-07-28"
TASKS = "io.modelcontextprotocol/tasks"


def audited(tmp_path: Path, env: dict[str, str] | None = None) -> Observed:
    """The product as on Lambda (JSON logs, EMF on), audit settings from `env` as the deployment parses them."""
    logs = io.StringIO()
    product_env = {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3"), **LAMBDA_LIKE, **(env or {})}
    product_env.pop("AWS_LAMBDA_FUNCTION_NAME")  # built as locally (dev key, SQLite), then observed as on Lambda
    product = build_product(
        {**product_env, "MCP_AUDIT_LOG": (env or {}).get("MCP_AUDIT_LOG", "true")},
        log_stream=logs,
        observability=ObservabilitySettings.from_env({**LAMBDA_LIKE, **(env or {})}),
    )
    return Observed(build=product.lambda_build(), logs=logs, product=product)


def audit_lines(observed: Observed) -> list[dict[str, Any]]:
    return [line for line in observed.lines() if line.get("log_type") == LOG_TYPE]


def call(observed: Observed, tool: str, arguments: dict[str, Any], rpc_id: int = 1) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": rpc_id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    response = observed.invoke(with_body("http-v2-tools-call", body))
    return json.loads(response["body"]) if response.get("body") else {}


def test_a_tool_call_writes_one_audit_line_with_every_field_and_no_argument_value(tmp_path: Path) -> None:
    observed = audited(tmp_path)
    secret_title = "quarterly salary review for Jane"
    answer = call(observed, "items_add", {"title": secret_title, "idempotency_key": "k-1"})
    assert answer["result"]["structuredContent"]["created"] is True
    [line] = audit_lines(observed)
    assert line["name"] == "app.audit" and line["level"] == "INFO"
    assert line["audit_event"] == "tool_call"
    assert line["principal_id"] == "local-dev-key" and line["principal_kind"] == "local"
    assert line["tool"] == "items_add"
    assert line["scopes"] == ["items:write"]
    assert line["outcome"] == "ok" and line.get("error_code") is None  # Powertools drops null fields
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["args_hmac"])
    assert line.get("task_id") is None
    assert "arguments" not in line
    assert secret_title not in observed.logs.getvalue()  # not in the audit line, nor anywhere else
    # The access line is still there, and separate.
    assert [a["mcp_tool"] for a in observed.access()] == ["items_add"]
    assert "log_type" not in observed.access()[0]


def test_the_hmac_tells_identical_calls_from_different_ones(tmp_path: Path) -> None:
    observed = audited(tmp_path)
    call(observed, "echo", {"text": "same"}, 1)
    call(observed, "echo", {"text": "same"}, 2)
    call(observed, "echo", {"text": "other"}, 3)
    first, second, third = (line["args_hmac"] for line in audit_lines(observed))
    assert first == second != third


def test_argument_values_only_when_configured_and_never_forging_a_line(tmp_path: Path) -> None:
    observed = audited(tmp_path, {"MCP_AUDIT_ARGUMENTS": "true"})
    forged = 'x"\n{"log_type": "audit", "principal_id": "admin", "tool": "items_delete"}\r\n' + "y" * 5000
    call(observed, "echo", {"text": forged})
    raw = observed.logs.getvalue().splitlines()
    assert all(json.loads(line) for line in raw if line.strip())  # every line is one whole JSON document
    [line] = audit_lines(observed)
    assert line["principal_id"] == "local-dev-key" and line["tool"] == "echo"
    arguments = line["arguments"]  # a client-controlled value: escaped and capped by the sanitizing filter
    assert isinstance(arguments, str) and "admin" in arguments and "\n" not in arguments and "\r" not in arguments
    assert len(arguments) <= 2100  # the filter's cap on a logged value


def test_failures_read_as_what_they_are(tmp_path: Path) -> None:
    observed = audited(tmp_path, {"MCP_DEV_API_KEY_SCOPES": "items:read"})
    call(observed, "items_get", {"id": "01" + "a" * 32}, 1)  # nobody's item: the tool says "not found"
    call(observed, "items_add", {"title": "t"}, 2)  # the key may only read
    got, added = audit_lines(observed)
    assert (got["tool"], got["outcome"], got.get("error_code")) == ("items_get", "tool_error", None)
    assert (added["tool"], added["outcome"], added["error_code"]) == ("items_add", "refused", -32051)
    assert added["scopes"] == ["items:write"]


def test_audit_is_off_when_configured_off(tmp_path: Path) -> None:
    observed = audited(tmp_path, {"MCP_AUDIT_LOG": "false"})
    call(observed, "echo", {"text": "hi"})
    assert audit_lines(observed) == [] and observed.access()


def test_on_by_default_on_lambda_only() -> None:
    assert ObservabilitySettings.from_env(LAMBDA_LIKE).audit_log is True
    assert ObservabilitySettings.from_env({}).audit_log is False


def test_a_task_writes_a_line_per_transition_and_the_call_names_it(tmp_path: Path) -> None:
    observed = audited(tmp_path)
    body = {
        "jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "items_export", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS: {}}},
        }},
    }  # fmt: skip
    event = with_body("http-v2-tools-call", body)
    event["headers"].update({"mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "items_export"})
    created = json.loads(observed.invoke(event)["body"])["result"]
    assert created["resultType"] == "task"
    assert observed.product.tasks is not None and observed.product.tasks.dispatcher.wait_idle(10)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "completed" not in [l["outcome"] for l in audit_lines(observed)]:
        time.sleep(0.05)
    lines = audit_lines(observed)
    [tool_call] = [l for l in lines if l["audit_event"] == "tool_call"]
    assert tool_call["task_id"] == created["taskId"] and tool_call["outcome"] == "ok"
    transitions = [l for l in lines if l["audit_event"] == "task"]
    assert [l["outcome"] for l in transitions] == ["created", "started", "completed"]
    for line in transitions:
        assert line["task_id"] == created["taskId"] and line["tool"] == "items_export"
        assert line["principal_id"] == "local-dev-key" and line["principal_kind"] == "local"
        assert line["scopes"] == ["items:read"] and line["task_run"] == 1
    assert transitions[-1]["duration_ms"] > 0 and transitions[0].get("duration_ms") is None


def test_a_failed_task_is_audited_and_counted_in_emf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    observed = audited(tmp_path)
    # The product's task service and store, with the audit the deployment builds when EMF is on.
    audit = AuditLog(enabled=True, tool_scopes=lambda name: frozenset({"items:read"}),
                     failures=TaskFailureMetric("McpTest", "mcp-test"))  # fmt: skip
    runtime = observed.product.tasks
    assert runtime is not None
    service = TaskService(runtime.service.store, runtime.service.timings, on_change=audit.task_changed)
    owner = Owner(principal_id=LOCAL_DEVELOPER.id, kind=LOCAL_DEVELOPER.kind)
    record = service.create(owner, "items_export", {}, {})
    service.dispatch_failed(record, throttled=True)
    created, failed = audit_lines(observed)
    assert (created["outcome"], failed["outcome"]) == ("created", "failed")
    assert failed["error_code"] == -32603 and failed["task_id"] == record.task_id
    assert failed["principal_kind"] == "local" and failed["scopes"] == ["items:read"]
    [metric] = [doc for doc in emf(capsys.readouterr().out) if "TasksFailed" in doc]
    assert metric["TasksFailed"] == 1 and metric["service"] == "mcp-test"
    [definition] = metric["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "McpTest" and definition["Dimensions"] == [["service"]]
    assert definition["Metrics"] == [{"Name": "TasksFailed", "Unit": "Count", "StorageResolution": 60}]


def test_the_documented_queries_name_fields_audit_lines_have(tmp_path: Path) -> None:
    observed = audited(tmp_path, {"MCP_DEV_API_KEY_SCOPES": "items:read"})
    call(observed, "echo", {"text": "hi"}, 1)
    call(observed, "items_add", {"title": "t"}, 2)  # refused: error_code
    runtime = observed.product.tasks  # the product's own service, wired to the product's audit
    assert runtime is not None
    record = runtime.service.create(Owner(principal_id="local-dev-key", kind="local"), "items_export", {}, {})
    runtime.service.dispatch_failed(record)
    fields = {name for line in audit_lines(observed) for name in line}
    doc = (Path(__file__).resolve().parents[2] / "docs" / "operating.md").read_text()
    section = doc.split("## Audit records", 1)[1].split("\n## ", 1)[0]
    queries = re.findall(r"```text\n(.*?)```", section, re.S)
    assert len(queries) >= 2
    keywords = {"fields", "filter", "stats", "sort", "by", "as", "and", "or", "in", "count", "desc", "asc", "calls"}
    for query in queries:
        names = set(re.findall(r"(?<![\"@\w])([a-z_]+)(?![\w\"(])", query)) - keywords
        assert names and names <= fields, names - fields
    # Every field the table documents is one a line carries.
    first_cells = re.findall(r"^\| ([^|]+) \|", section, re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)}
    assert documented - {"arguments"} <= fields, documented - fields


def test_a_quota_refusal_is_audited_as_refused(tmp_path: Path) -> None:
    observed = audited(tmp_path, {"MCP_QUOTA_TOOL_CALLS": "1"})
    call(observed, "echo", {"text": "first"}, 1)
    refused = call(observed, "echo", {"text": "second"}, 2)
    assert refused["result"]["isError"] is True  # the caller reads the quota message (app.quotas)
    first, second = audit_lines(observed)
    assert (first["outcome"], second["outcome"]) == ("ok", "refused")

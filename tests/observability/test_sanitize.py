"""Client-supplied text in log lines: escaped and capped, in both formats (issue 8, item 6).

Requests go through the real Lambda handler (API Gateway events) of the
local product (development key, SQLite); its logs are read back as written:
plain text as under `make run`, Powertools JSON as on Lambda.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.main import build_product
from app.observability import ObservabilitySettings, reset_logging
from app.observability.logs import PlainFormatter
from app.observability.sanitize import (
    MAX_VALUE,
    SanitizingFilter,
    clean_text,
    clean_value,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
DEV_KEY = "local-dev-key-for-events"
LAMBDA_LIKE = {"AWS_LAMBDA_FUNCTION_NAME": "mcp-fn", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
#: What an attacker would put in a value: a line that looks like the server's own, in both formats.
FORGED_PLAIN = "2030-01-01 00:00:00,000 ERROR app.auth: forged admin login"
FORGED_JSON = '{"level":"ERROR","message":"forged admin login"}'
PAYLOAD = f"x\n{FORGED_PLAIN}\r\n{FORGED_JSON}\u2028\x1b[2Kend"
#: A plain-text record's first line; every other line of its output is indented.
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


@dataclass
class Logged:
    handler: Any
    logs: io.StringIO
    json: bool

    def invoke(self, body: dict[str, Any], base: str = "http-v2-tools-call") -> dict[str, Any]:
        event = json.loads((EVENTS / f"{base}.json").read_text())
        event["body"] = json.dumps({"jsonrpc": "2.0", **body})
        return self.handler(copy.deepcopy(event), None)

    def lines(self) -> list[str]:
        return self.logs.getvalue().splitlines()


@pytest.fixture(autouse=True)
def _restore_logging() -> Any:
    yield
    reset_logging()


@pytest.fixture(params=["plain", "json"])
def logged(request: pytest.FixtureRequest, tmp_path: Path) -> Logged:
    logs = io.StringIO()
    json = request.param == "json"
    product = build_product(
        {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")},
        log_stream=logs,
        observability=ObservabilitySettings.from_env(LAMBDA_LIKE) if json else None,
    )
    if json:
        return Logged(product.lambda_build().handler, logs, json=True)
    return Logged(product.lambda_handler(), logs, json=False)


def assert_no_forged_line(logged: Logged) -> None:
    """Every line is one of ours: a record's first line (plain), an indented continuation, or one JSON object."""
    lines = logged.lines()
    assert lines, "nothing was logged"
    for line in lines:
        if logged.json:
            assert isinstance(json.loads(line), dict), line
        else:
            assert RECORD_START.match(line) or line.startswith("  "), line
        assert not line.startswith(("2030-", '{"level":"ERROR","message":"forged')), line
        assert "\x1b" not in line and "\u2028" not in line and "\r" not in line


def access_line(logged: Logged) -> str:
    (line,) = [line for line in logged.lines() if "app.access" in line]
    return line


BODIES = {
    "jsonrpc-id": {"id": PAYLOAD, "method": "tools/list", "params": {}},
    "method": {"id": 1, "method": PAYLOAD, "params": {}},
    "tool-name": {"id": 1, "method": "tools/call", "params": {"name": PAYLOAD, "arguments": {}}},
    "client-name": {
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": PAYLOAD, "version": "1"},
        },
    },
}


@pytest.mark.parametrize("field", list(BODIES), ids=list(BODIES))
def test_newline_in_a_client_value_cannot_forge_a_log_line(logged: Logged, field: str) -> None:
    logged.invoke(BODIES[field])
    assert_no_forged_line(logged)
    line = access_line(logged)
    # The value is still there, escaped, so the line tells what the client sent.
    if logged.json:
        assert "forged admin login" in json.dumps(json.loads(line))
    else:
        assert "x\\n2030-01-01 00:00:00,000 ERROR app.auth: forged" in line


def test_newline_in_jsonrpc_id_cannot_forge_a_log_line(logged: Logged) -> None:
    logged.invoke({"id": "7\n" + FORGED_PLAIN, "method": "tools/list", "params": {}})
    assert_no_forged_line(logged)
    line = access_line(logged)
    if logged.json:
        assert json.loads(line)["jsonrpc_id"] == "7\\n" + FORGED_PLAIN
    else:
        assert 'jsonrpc_id="7\\n2030-01-01 00:00:00,000 ERROR app.auth: forged admin login"' in line


def test_million_character_id_costs_a_capped_field_not_a_megabyte_line(logged: Logged) -> None:
    logged.invoke({"id": "9" * 1_000_000, "method": "tools/list", "params": {}})
    line = access_line(logged)
    assert len(line) < 2_000
    assert "…[truncated, 1000000 chars]" in line
    assert max(len(line) for line in logged.lines()) < 2_000


def test_a_value_with_spaces_cannot_pose_as_another_plain_text_field(tmp_path: Path) -> None:
    logs = io.StringIO()
    product = build_product(
        {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")}, log_stream=logs
    )
    handler = product.lambda_handler()
    event = json.loads((EVENTS / "http-v2-tools-call.json").read_text())
    event["body"] = json.dumps({"jsonrpc": "2.0", "id": "1 principal_id=admin", "method": "tools/list"})
    handler(event, None)
    (line,) = [line for line in logs.getvalue().splitlines() if "app.access" in line]
    assert 'jsonrpc_id="1 principal_id=admin"' in line
    assert " principal_id=local-dev-key" in line


def _record(msg: str, args: Any = (), exc_info: Any = None, **extra: Any) -> logging.LogRecord:
    return logging.getLogger("app.test").makeRecord("app.test", logging.ERROR, __file__, 1, msg, args, exc_info, "fn", extra)


def test_a_traceback_quoting_a_client_cannot_start_a_line_of_its_own() -> None:
    try:
        raise ValueError(f"unknown item {PAYLOAD!s}")
    except ValueError:
        import sys

        record = _record("item surface crashed", exc_info=sys.exc_info())
    from app.observability.logs import _STANDARD_ATTRS

    SanitizingFilter(_STANDARD_ATTRS).filter(record)
    text = PlainFormatter().format(record)
    first, *rest = text.split("\n")
    assert RECORD_START.match(first)
    assert rest and all(line.startswith("  ") for line in rest)
    assert "\x1b" not in text and "\u2028" not in text
    assert f"  {FORGED_PLAIN}" in text  # the client's text, visibly inside the traceback


def test_message_built_with_an_f_string_is_cleaned_too() -> None:
    from app.observability.logs import _STANDARD_ATTRS

    record = _record(f"Rejected session {PAYLOAD}")
    SanitizingFilter(_STANDARD_ATTRS).filter(record)
    assert "\n" not in record.getMessage() and "\\n2030-01-01" in record.getMessage()


def test_arguments_of_other_types_are_formatted_then_cleaned() -> None:
    from app.observability.logs import _STANDARD_ATTRS

    class Payload:
        def __repr__(self) -> str:
            return PAYLOAD

    record = _record("transport yielded %r and %d", (Payload(), 10**400))
    SanitizingFilter(_STANDARD_ATTRS).filter(record)
    message = record.getMessage()
    assert "\n" not in message and "\\n2030" in message and "…[truncated" not in message[:50]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain value", "plain value"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("esc\x1b[31m", "esc\\x1b[31m"),
        ("nel\x85", "nel\\x85"),
        ("line\u2028sep", "line\\u2028sep"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("déjà vu ✓", "déjà vu ✓"),
    ],
    ids=["printable", "newline", "crlf", "tab", "ansi-escape", "nel", "u2028", "zero-width-space", "non-ascii-kept"],
)
def test_control_characters_are_escaped(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_a_long_value_is_capped_with_its_original_length() -> None:
    cleaned = clean_text("\n" * 5000)
    assert cleaned.startswith("\\n" * (MAX_VALUE // 2)) and cleaned.endswith("…[truncated, 5000 chars]")
    assert len(cleaned) <= MAX_VALUE + 30


def test_structured_values_stay_structured_unless_unsafe_or_huge() -> None:
    small = {"a": [1, "x\ny"]}  # JSON escapes the newline: kept as a structure
    assert clean_value(small) is small
    huge = {"text": "y" * 10_000}
    assert isinstance(clean_value(huge), str) and "…[truncated" in clean_value(huge)
    assert "\u2028" not in clean_value({"a": "\u2028"})
    assert clean_value(2**200) == 2**200 and clean_value(10**400).startswith("<integer of ")

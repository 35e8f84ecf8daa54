"""Property-based fuzzing of the HTTP surface, both eras (issue 8, "Done when").

Malformed and adversarial requests (random JSON-RPC shapes, wrong types,
huge strings, control characters in ids, methods, names and clientInfo.name,
disagreeing/duplicated/base64 routing headers, odd Accept, Content-Type and
MCP-Protocol-Version) go through the product's own ASGI app in-process
(development key, SQLite, its plain-text logging as under `make run`). For
every request: no 5xx, an answer within a timeout, no ERROR record and no
traceback, every log line one of ours (no line forged by a newline from the
request) and shorter than a cap, and the API key never in the log.

Bounded and stable in CI: a fixed number of examples, derandomized, no
example database, no deadline.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.main import build_product
from app.observability import reset_logging

KEY = "fuzz-dev-key-0123456789abcdefghij"
HANDSHAKE_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
MODERN = "2026-07-28"
#: Each request must be answered within this many seconds (a hang fails the example).
REQUEST_TIMEOUT_S = 20
#: No log line may be longer (values are capped at 200 characters, messages at 2,000).
LINE_CAP = 6000
#: A plain-text record's first line; every other line of a record is indented.
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
METHODS = [
    "initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list",
    "resources/read", "resources/templates/list", "completion/complete", "logging/setLevel", "server/discover",
    "notifications/initialized", "notifications/cancelled", "subscriptions/listen", "tasks/get", "no/such",
]
TOOLS = ["echo", "add", "items_add", "items_get", "items_search", "items_list", "items_update", "items_delete", "nope"]
SETTINGS = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


class Records(logging.Handler):
    """Every record the app's and the SDK's loggers emit (they do not propagate to the root)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Fuzzed:
    def __init__(self, app: Any, logs: io.StringIO, records: Records) -> None:
        self.app, self.logs, self.records = app, logs, records

    def send(self, body: bytes, headers: list[tuple[str, str]]) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
                request = client.build_request("POST", "/mcp", content=body, headers=raw)
                return await asyncio.wait_for(client.send(request), REQUEST_TIMEOUT_S)

        return asyncio.run(go())


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    logs = io.StringIO()
    data = Path(tmp_path_factory.mktemp("fuzz"))
    product = build_product(
        {"MCP_DEV_API_KEY": KEY, "ITEMS_SQLITE_PATH": str(data / "items.sqlite3"), "MCP_REQUEST_TIMEOUT_S": "10"},
        log_stream=logs,
    )
    app = product.asgi_app()  # make run's stack and plain-text logging, written to `logs`
    records = Records()
    loggers = [logging.getLogger(name) for name in ("app", "mcp")]
    for logger in loggers:
        logger.addHandler(records)
    try:
        yield Fuzzed(app, logs, records)
    finally:
        for logger in loggers:
            logger.removeHandler(records)
        reset_logging()


# -- strategies -------------------------------------------------------------------

NASTY_CHARS = "\n\r\t\x00\x1b\x85\u2028\u2029\ufeff\"'\\{}[]<>%$\u00e9\U0001f600"
nasty_text = st.text(alphabet=st.sampled_from(NASTY_CHARS) | st.characters(codec="utf-8"), max_size=40)
forged = st.sampled_from(
    [
        "x\n2030-01-01 00:00:00,000 ERROR app.auth: forged admin login",
        'x\r\n{"level":"ERROR","message":"forged"}',
        "\x1b[2Kcleared",
    ]
)
huge = st.sampled_from([10_000, 200_000, 1_000_000]).flatmap(lambda n: st.sampled_from(["x" * n, "\n" * n, "é" * n]))
adversarial_text = st.one_of(nasty_text, forged, huge, st.sampled_from(METHODS + TOOLS))
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), adversarial_text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=12,
)
request_id = st.one_of(st.integers(), st.integers(min_value=2**70), adversarial_text, json_value)


@st.composite
def params(draw: st.DrawFn, modern: bool) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(json_value)  # any shape at all
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["name"] = draw(st.sampled_from(TOOLS + ["summarize_items"]) | adversarial_text | json_value)
    if draw(st.booleans()):
        out["arguments"] = draw(
            st.fixed_dictionaries({}, optional={"text": adversarial_text, "a": json_value, "b": json_value,
                                                "title": adversarial_text, "id": adversarial_text, "query": adversarial_text})
            | json_value
        )
    if draw(st.booleans()):
        out["uri"] = draw(st.sampled_from(["items://me/usage", "items://x", "ui://items/board"]) | adversarial_text)
    if draw(st.booleans()):
        out["ref"] = draw(st.fixed_dictionaries({"type": st.sampled_from(["ref/prompt", "ref/resource"]) | adversarial_text,
                                                 "name": adversarial_text, "uri": adversarial_text}) | json_value)
        out["argument"] = draw(st.fixed_dictionaries({"name": adversarial_text, "value": adversarial_text}) | json_value)
    client_info = {"name": draw(adversarial_text), "version": draw(nasty_text)}
    if modern and draw(st.integers(0, 4)) > 0:
        meta: Any = {
            "io.modelcontextprotocol/protocolVersion": draw(st.just(MODERN) | nasty_text),
            "io.modelcontextprotocol/clientCapabilities": draw(st.just({}) | json_value),
            "io.modelcontextprotocol/clientInfo": client_info,
        }
        out["_meta"] = draw(st.just(meta) | json_value)
    elif draw(st.booleans()):
        out.update(protocolVersion=draw(st.sampled_from(HANDSHAKE_VERSIONS) | nasty_text), capabilities={}, clientInfo=client_info)
    return out


def often(draw: st.DrawFn, n: int) -> bool:
    """True n-1 times in n (the rare case is the largest draw, not the smallest hypothesis prefers)."""
    return draw(st.integers(0, n - 1)) != n - 1


def header_safe(text: str) -> str:
    # What an HTTP client can put on the wire: no CR/LF/NUL (httpx refuses them), latin-1 only.
    return "".join(c for c in text if c not in "\r\n\x00" and ord(c) < 256)[:500]


def b64_header(text: str) -> str:
    return "=?base64?" + base64.b64encode(text.encode()).decode() + "?="


@st.composite
def fuzz_request(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, str]]]:
    modern = draw(st.booleans())
    # Mostly well-formed envelopes, so that most requests reach the SDK kernel and the tools.
    method = draw(st.sampled_from(METHODS)) if often(draw, 4) else draw(adversarial_text | json_value)
    message: Any = {"jsonrpc": "2.0" if often(draw, 10) else draw(json_scalar), "method": method}
    if draw(st.integers(0, 5)) > 0:
        message["id"] = draw(request_id)
    if draw(st.integers(0, 5)) > 0:
        message["params"] = draw(params(modern))
    shape = draw(st.integers(0, 19))
    if shape == 0:
        body = draw(st.binary(max_size=200))  # not JSON, or not UTF-8
    elif shape == 1:
        body = json.dumps([message, message]).encode()  # a batch
    elif shape == 2:
        body = json.dumps(draw(json_value)).encode()  # valid JSON, not JSON-RPC
    else:
        body = json.dumps(message).encode()

    headers: list[tuple[str, str]] = [("authorization", f"Bearer {KEY}")]
    accept_ok = ["application/json, text/event-stream", "application/json", "text/event-stream", "*/*"]
    accept_odd = ["text/html", "application/*;q=0", "", "application/json;q=abc, text/event-stream", "*/*, */*;q=0"]
    headers.append(("accept", draw(st.sampled_from(accept_ok if often(draw, 8) else accept_odd))))
    type_ok = ["application/json", "application/json; charset=utf-8", "Application/JSON"]
    type_odd = ["text/plain", "application/json; charset=latin-1", "", "multipart/form-data; boundary=x", "application/json-seq"]
    headers.append(("content-type", draw(st.sampled_from(type_ok if often(draw, 8) else type_odd))))
    version = draw(st.sampled_from([*HANDSHAKE_VERSIONS, MODERN]) if not modern else st.just(MODERN))
    if draw(st.integers(0, 6)) == 0:
        version = header_safe(draw(nasty_text | huge))
    if draw(st.integers(0, 5)) > 0:
        headers.append(("mcp-protocol-version", version))
    if modern:
        routing = {"mcp-method": method if isinstance(method, str) else draw(nasty_text)}
        name = (message.get("params") or {}).get("name") if isinstance(message.get("params"), dict) else None
        routing["mcp-name"] = name if isinstance(name, str) else draw(nasty_text)
        for header, value in routing.items():
            choice = draw(st.integers(0, 11))
            if choice == 0:
                continue  # missing
            if choice == 1:
                value = draw(nasty_text)  # mismatched
            if choice == 2:
                headers.append((header, b64_header(value)))  # base64-encoded (may hide a newline)
                continue
            headers.append((header, header_safe(value)))
            if choice == 3:
                headers.append((header, header_safe(draw(nasty_text))))  # duplicated
    if draw(st.integers(0, 9)) == 0:
        headers.append((header_safe(draw(st.sampled_from(["mcp-param-text", "mcp-session-id", "origin", "x-forwarded-host"]))),
                        header_safe(draw(nasty_text | huge))))
    return body, headers


# -- the property -------------------------------------------------------------------


def assert_clean_logs(fuzzed: Fuzzed, log_from: int, record_from: int) -> None:
    new_records = fuzzed.records.records[record_from:]
    crashes = [r for r in new_records if r.levelno >= logging.ERROR or r.exc_info]
    assert not crashes, [(r.levelname, r.name, r.getMessage()[:300]) for r in crashes]
    text = fuzzed.logs.getvalue()[log_from:]
    assert KEY not in text, "the API key reached the log"
    for line in text.splitlines():
        assert len(line) <= LINE_CAP, f"log line of {len(line)} characters"
        assert RECORD_START.match(line) or line.startswith("  "), f"forged or foreign log line: {line[:300]!r}"
        assert not line.startswith(("2030-", '{"level":"ERROR","message":"forged')), line[:300]


@SETTINGS
@given(request=fuzz_request())
def test_fuzzed_requests_get_no_5xx_no_hang_no_traceback_and_clean_logs(fuzzed: Fuzzed, request: tuple[bytes, list[tuple[str, str]]]) -> None:
    body, headers = request
    log_from, record_from = len(fuzzed.logs.getvalue()), len(fuzzed.records.records)
    response = fuzzed.send(body, headers)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    event(f"HTTP {response.status_code}")  # shown by --hypothesis-show-statistics
    if response.content and response.headers.get("content-type", "").startswith("application/json"):
        json.loads(response.content)  # whatever it says, it is well-formed
    assert_clean_logs(fuzzed, log_from, record_from)

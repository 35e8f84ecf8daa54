"""Observability through the real Lambda handler: access log fields, no secrets, EMF metrics, tracing.

The product is the local one (development key, SQLite), observed as on
Lambda (`AWS_LAMBDA_FUNCTION_NAME` set, metrics on, tracing off: there is no
X-Ray daemon here). The full Lambda configuration (SSM, DynamoDB) is
exercised in tests/test_snapstart.py.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from app.events import FakeLambdaContext
from app.transport.sdk import lowlevel_server
from app.main import LambdaBuild, Product, build_product
from app.observability import ObservabilitySettings, RequestObserver, configure_logging, reset_logging
from app.observability.metrics import InvocationMetrics, Sample
from app.observability.tracing import ToolTracing

EVENTS = Path(__file__).resolve().parent.parent / "events"
DEV_KEY = "local-dev-key-for-events"  # the local-only key the committed events carry
LAMBDA_LIKE = {
    "AWS_LAMBDA_FUNCTION_NAME": "mcp-fn",
    "AWS_LAMBDA_FUNCTION_VERSION": "7",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "POWERTOOLS_SERVICE_NAME": "mcp-test",
    "POWERTOOLS_METRICS_NAMESPACE": "McpTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def FakeContext(aws_request_id: str = "req-1") -> FakeLambdaContext:  # noqa: N802 - reads like the class it stands for
    """Lambda's context object, as the runtime hands it over."""
    context = FakeLambdaContext(20.0, function_name="mcp-fn", request_id=aws_request_id)
    context.function_version = "7"
    return context


@dataclass
class Observed:
    build: LambdaBuild
    logs: io.StringIO
    product: Product
    contexts: list[FakeContext] = field(default_factory=list)

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        context = FakeContext(aws_request_id=request_id or f"req-{len(self.contexts) + 1}")
        self.contexts.append(context)
        return self.build.handler(copy.deepcopy(event), context)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("name") == "app.access"]


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def with_body(base: str, body: dict[str, Any]) -> dict[str, Any]:
    result = event(base)
    result["body"] = json.dumps(body)
    return result


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    reset_logging()


def observe(tmp_path: Path, extra: dict[str, str] | None = None) -> Observed:
    logs = io.StringIO()
    product = build_product(
        {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")}, log_stream=logs
    )
    product = replace(product, observability=ObservabilitySettings.from_env({**LAMBDA_LIKE, **(extra or {})}))
    return Observed(build=product.lambda_build(), logs=logs, product=product)


@pytest.fixture
def observed(tmp_path: Path) -> Observed:
    return observe(tmp_path)


def emf(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]


# -- logs ---------------------------------------------------------------------


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


def test_no_credential_in_any_log_or_metric_output(observed: Observed, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = [DEV_KEY, "wrong-key-but-still-a-secret-0123"]
    for path in sorted(EVENTS.glob("http-v2-*.json")):
        observed.invoke(json.loads(path.read_text()))
    refused = event("http-v2-tools-call")
    refused["headers"]["authorization"] = f"Bearer {secrets[1]}"
    assert observed.invoke(refused)["statusCode"] == 401
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


# -- metrics ------------------------------------------------------------------


def test_emf_once_per_invocation_with_method_and_tool_dimensions(
    observed: Observed, capsys: pytest.CaptureFixture[str]
) -> None:
    observed.invoke(event("http-v2-tools-call"))
    cold, call = emf(capsys.readouterr().out)
    assert cold["ColdStart"] == [1.0] and cold["function_name"] == "mcp-fn" and cold["service"] == "mcp-test"
    directive = call["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "McpTest"
    assert directive["Dimensions"] == [["service", "method", "tool"], ["service", "method"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Requests": "Count",
        "Latency": "Milliseconds",
        "Errors": "Count",
    }
    assert (call["service"], call["method"], call["tool"]) == ("mcp-test", "tools/call", "add")
    assert call["Requests"] == [1] and call["Errors"] == [0] and len(call["Latency"]) == 1

    observed.invoke(event("http-v2-tools-list"))
    (listing,) = emf(capsys.readouterr().out)  # no ColdStart the second time
    assert listing["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "method"]]
    assert listing["method"] == "tools/list" and "tool" not in listing


def test_metric_dimensions_stay_bounded(observed: Observed, capsys: pytest.CaptureFixture[str]) -> None:
    observed.invoke(
        with_body("http-v2-tools-call", {"jsonrpc": "2.0", "id": 1, "method": "x/" + "a" * 50, "params": {}})
    )
    observed.invoke(
        with_body(
            "http-v2-tools-call", {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "zz-unknown"}}
        )
    )
    documents = emf(capsys.readouterr().out)[1:]  # after ColdStart
    assert [(d["method"], d.get("tool")) for d in documents] == [("other", None), ("tools/call", "other")]
    assert [d["Errors"] for d in documents] == [[1], [1]]


def test_emf_document_is_what_powertools_would_print() -> None:
    metrics = InvocationMetrics("NS", "svc", known_method=lambda _: True, known_tool=lambda _: True)
    samples = [Sample("tools/call", "add", 1.25, False), Sample("tools/call", "add", 0.5, True)]
    now_ms = int(time.time() * 1000)
    ours = json.loads(metrics.render("tools/call", "add", samples, str(now_ms)))

    provider = AmazonCloudWatchEMFProvider(namespace="NS", service="svc", metric_set={}, dimension_set={})
    provider.add_dimension(name="method", value="tools/call")
    provider.add_dimension(name="tool", value="add")
    provider.add_dimensions(service="svc", method="tools/call")
    provider.add_metric(name="Requests", unit="Count", value=2)
    for sample in samples:
        provider.add_metric(name="Latency", unit="Milliseconds", value=sample.duration_ms)
    provider.add_metric(name="Errors", unit="Count", value=1)
    provider.set_timestamp(now_ms)
    theirs = json.loads(json.dumps(provider.serialize_metric_set()))

    def normalized(doc: dict[str, Any]) -> dict[str, Any]:
        directive = doc["_aws"]["CloudWatchMetrics"][0]
        return {
            "namespace": directive["Namespace"],
            "dimensions": sorted(sorted(d) for d in directive["Dimensions"]),
            "metrics": directive["Metrics"],
            "timestamp": doc["_aws"]["Timestamp"],
            "values": {k: v for k, v in doc.items() if k != "_aws"},
        }

    assert normalized(ours) == normalized(theirs)


def test_off_lambda_nothing_on_stdout_and_no_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    product = build_product({"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "i.sqlite3")})
    build = product.lambda_build()
    assert build.observability.metrics is None and build.observability.tracing is None
    for _ in range(2):
        assert build.handler(event("http-v2-tools-call"), FakeContext())["statusCode"] == 200
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("environ", "metrics", "tracing"),
    [
        ({}, False, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, True, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_METRICS_DISABLED": "true"}, False, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_DEV": "true"}, False, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "1"}, True, False),
        ({"POWERTOOLS_METRICS_DISABLED": "false"}, False, False),  # never off Lambda
    ],
    ids=["local", "lambda", "metrics-disabled", "powertools-dev", "trace-disabled", "local-forced"],
)
def test_settings_decide_metrics_and_tracing(environ: dict[str, str], metrics: bool, tracing: bool) -> None:
    settings = ObservabilitySettings.from_env(environ)
    assert (settings.metrics, settings.tracing) == (metrics, tracing)


# -- tracing ------------------------------------------------------------------


def test_tracing_disabled_costs_nothing_and_changes_nothing(observed: Observed) -> None:
    assert observed.build.observability.tracing is None
    assert observed.invoke(event("http-v2-tools-call"))["statusCode"] == 200
    assert observed.access()[0]["outcome"] == "ok"


class RecordingSubsegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value


class RecordingProvider:
    """Stands in for the X-Ray recorder (no daemon here): records subsegments and annotations."""

    def __init__(self) -> None:
        self.subsegments: list[RecordingSubsegment] = []

    @asynccontextmanager
    async def in_subsegment_async(self, name: str) -> Any:
        subsegment = RecordingSubsegment(name)
        self.subsegments.append(subsegment)
        yield subsegment


def test_one_annotated_subsegment_per_tool_call(observed: Observed) -> None:
    provider = RecordingProvider()
    core = lowlevel_server(observed.product.server)
    observer = core.middleware[0]
    assert isinstance(observer, RequestObserver)
    observer.tracing = ToolTracing("mcp-test", provider=provider)
    observed.invoke(event("http-v2-tools-list"))
    observed.invoke(event("http-v2-tools-call"))
    observed.invoke(event("http-v2-modern-tools-call"))
    assert [(s.name, s.annotations) for s in provider.subsegments] == [
        ("## mcp tools/call", {"mcp_method": "tools/call", "mcp_tool": "add"}),
        ("## mcp tools/call", {"mcp_method": "tools/call", "mcp_tool": "echo"}),
    ]


def test_without_the_xray_sdk_the_function_still_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import observability

    def missing(service: str) -> ToolTracing:
        raise ModuleNotFoundError("No module named 'aws_xray_sdk'", name="aws_xray_sdk")

    monkeypatch.setattr(observability, "ToolTracing", missing)
    traced = observe(tmp_path, {"POWERTOOLS_TRACE_DISABLED": "false"})
    assert traced.product.observability.tracing is True
    assert traced.build.observability.tracing is None
    assert traced.invoke(event("http-v2-tools-call"))["statusCode"] == 200
    (warning,) = [line for line in traced.lines() if "missing_module" in line]
    assert warning["level"] == "WARNING" and warning["missing_module"] == "aws_xray_sdk"


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


def test_cold_start_document_is_the_one_powertools_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """Our pre-laid-out ColdStart document equals Powertools' own `add_cold_start_metric` output."""
    import json as _json

    import aws_lambda_powertools.metrics.provider.cold_start as powertools_cold_start
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    from app.observability.metrics import InvocationMetrics

    class Context:
        function_name = "mcp-fn"
        aws_request_id = "r"

    ours = InvocationMetrics("Ns", "svc", known_method=lambda m: True, known_tool=lambda t: True)
    provider = AmazonCloudWatchEMFProvider(namespace="Ns", service="svc", metric_set={}, dimension_set={"service": "svc"}, metadata_set={})
    powertools_cold_start.is_cold_start = True
    provider.add_cold_start_metric(context=Context())
    theirs = _json.loads(capsys.readouterr().out.strip())
    mine = _json.loads(ours.cold_start_document(Context(), str(theirs["_aws"]["Timestamp"])))
    assert mine == theirs

"""EMF metrics (app.observability.metrics): once per invocation, bounded dimensions, Powertools layout."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from app.main import build_product
from app.observability.metrics import InvocationMetrics, Sample

from .support import (
    DEV_KEY,
    FakeContext,
    Observed,
    emf,
    event,
    with_body,
)


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

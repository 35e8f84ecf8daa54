"""X-Ray (app.observability.tracing): one annotated subsegment per tool call; nothing when off or absent."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.observability import (
    RequestObserver,
)
from app.observability.tracing import ToolTracing
from app.transport.sdk import lowlevel_server

from .support import (
    Observed,
    event,
    observe,
)


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

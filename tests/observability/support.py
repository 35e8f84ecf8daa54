"""Shared by the observability tests: the product observed as on Lambda, fed committed events."""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.events import FakeLambdaContext
from app.main import LambdaBuild, Product, build_product
from app.observability import (
    ObservabilitySettings,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
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


def observe(tmp_path: Path, extra: dict[str, str] | None = None) -> Observed:
    logs = io.StringIO()
    product = build_product(
        {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")},
        log_stream=logs,
        observability=ObservabilitySettings.from_env({**LAMBDA_LIKE, **(extra or {})}),
    )
    return Observed(build=product.lambda_build(), logs=logs, product=product)


def emf(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]

"""The worker entry (`worker.handler`) is the product's own: same server, logs formatted like the API function's."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.core.events import FakeLambdaContext
from app.core.principal import LOCAL_DEVELOPER
from app.main import build_product
from app.observability import ObservabilitySettings, reset_logging
from app.tasks.model import Owner

LAMBDA_LIKE = {"AWS_LAMBDA_FUNCTION_NAME": "mcp-worker", "POWERTOOLS_SERVICE_NAME": "mcp-lambda-worker"}


def test_worker_logs_json_lines_like_the_api_function(tmp_path: Path) -> None:
    logs = io.StringIO()
    product = build_product(
        # As the worker function is configured (the template sets TASKS_ROLE), logs observed as on Lambda.
        {"MCP_DEV_API_KEY": "k" * 24, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3"), "TASKS_ROLE": "worker"},
        log_stream=logs,
        observability=ObservabilitySettings.from_env(LAMBDA_LIKE),
    )
    try:
        worker = product.task_worker()
        # Not a task run (e.g. a stray test event from the console): dropped, logged, never raised.
        assert worker({"kind": "something-else"}, FakeLambdaContext(30.0, function_name="mcp-worker")) == {
            "outcome": "invalid"
        }
    finally:
        reset_logging()
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]
    dropped = [line for line in lines if line.get("message") == "worker event dropped"]
    assert dropped and dropped[0]["level"] == "WARNING" and dropped[0]["service"] == "mcp-lambda-worker"


def test_a_worker_built_without_its_role_on_lambda_refuses_to_start(tmp_path: Path) -> None:
    """Without TASKS_ROLE=worker the product would count metrics no invocation of the worker flushes."""
    from app.core.errors import ConfigurationError

    product = build_product(
        {"MCP_DEV_API_KEY": "k" * 24, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")},
        log_stream=io.StringIO(),
        observability=ObservabilitySettings.from_env(LAMBDA_LIKE),
    )
    try:
        with pytest.raises(ConfigurationError, match="TASKS_ROLE=worker"):
            product.task_worker()
    finally:
        reset_logging()


def test_a_task_failing_in_the_worker_is_counted_in_emf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The worker flushes no per-invocation metrics, but its task failures still print TasksFailed."""
    product = build_product(
        {"MCP_DEV_API_KEY": "k" * 24, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3"), "TASKS_ROLE": "worker"},
        log_stream=io.StringIO(),
        observability=ObservabilitySettings.from_env(LAMBDA_LIKE),
    )
    try:
        assert product.observed.metrics is None  # per-request metrics off in the worker
        assert product.tasks is not None
        service = product.tasks.service  # the worker's own: its changes reach the product's audit
        record = service.create(Owner(principal_id=LOCAL_DEVELOPER.id, kind=LOCAL_DEVELOPER.kind), "items_export", {}, {})
        service.dispatch_failed(record, throttled=True)
    finally:
        reset_logging()
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"TasksFailed"' in line]
    assert [(doc["TasksFailed"], doc["service"]) for doc in documents] == [(1, "mcp-lambda-worker")]

"""The worker entry (`worker.handler`) is the product's own: same server, logs formatted like the API function's."""

from __future__ import annotations

import io
import json
from pathlib import Path

from app.core.events import FakeLambdaContext
from app.main import build_product
from app.observability import ObservabilitySettings, reset_logging

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
    import pytest

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

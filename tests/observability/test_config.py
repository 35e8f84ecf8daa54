"""Observability settings (app.observability.config): what the environment turns on."""

from __future__ import annotations

import pytest

from app.observability import (
    ObservabilitySettings,
)


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

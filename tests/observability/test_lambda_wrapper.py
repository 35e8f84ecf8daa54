"""The observed Lambda handler (app.observability.lambda_wrapper): the cold-start document."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from app.observability.metrics import InvocationMetrics


def test_cold_start_document_is_the_one_powertools_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """Our pre-laid-out ColdStart document equals Powertools' own `add_cold_start_metric` output."""
    import json as _json

    import aws_lambda_powertools.metrics.provider.cold_start as powertools_cold_start


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

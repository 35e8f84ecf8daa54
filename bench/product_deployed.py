"""The product as deployed, cold only: case `product-deployed`.

`handler.py` with the template's configuration in fresh processes; what it reads (SSM parameters, the
DynamoDB table) is on moto's server on 127.0.0.1, set up here.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from bench import aws
from bench.cases import Case, Probe, register, standard_probes
from bench.product_setup import LAMBDA_LIKE

SEALING_PARAM = "/mcp-bench/request-state-keys"
#: Its own key ring parameter: the moto server is shared with restore-ssm.
DEPLOYED_KEYS_PARAM = "/mcp-bench/deployed/api-keys"

_deployed_env: dict[str, str] = {}
_deployed: dict[str, str] = {}


@contextlib.contextmanager
def _deployed_setup() -> Iterator[None]:
    """moto on 127.0.0.1 holding what the deployed function reads: the API key ring and the requestState
    key ring in SSM, the item table in DynamoDB (the Lambda API for the task worker is never called)."""
    from app.auth.keyring import digest_hex, generate_key
    from app.items.dynamo_store import table_definition

    with aws.moto_server() as endpoint:
        key_id, key = generate_key()
        ssm = aws.client("ssm", endpoint)
        ring = {key_id: {"sha256": digest_hex(key), "name": "bench"}}
        ssm.put_parameter(Name=DEPLOYED_KEYS_PARAM, Value=json.dumps(ring), Type="SecureString", Overwrite=True)
        ssm.put_parameter(Name=SEALING_PARAM, Overwrite=True, Value="bench-sealing-" + uuid.uuid4().hex * 2, Type="SecureString")
        table = f"mcp-bench-deployed-{uuid.uuid4().hex[:8]}"
        aws.client("dynamodb", endpoint).create_table(**table_definition(table))
        _deployed.update(key=key)
        _deployed_env.update(
            {
                **LAMBDA_LIKE,
                **aws.CREDENTIALS,
                "AWS_ENDPOINT_URL_SSM": endpoint,
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                "AWS_ENDPOINT_URL_LAMBDA": endpoint,
                "MCP_API_KEYS_PARAM": DEPLOYED_KEYS_PARAM,
                "MCP_REQUEST_STATE_KEY_PARAM": SEALING_PARAM,
                "ITEMS_BACKEND": "dynamodb",
                "ITEMS_TABLE_NAME": table,
                "TASKS_WORKER_FUNCTION": "mcp-bench-worker",
            }
        )
        try:
            yield
        finally:
            _deployed.clear()
            _deployed_env.clear()


def _deployed_probes() -> dict[str, Probe]:
    probes = standard_probes(modern=False)

    def with_key(probe: Probe) -> Probe:
        def event() -> dict[str, Any]:
            built = probe.event()
            built["headers"]["authorization"] = f"Bearer {_deployed['key']}"
            return built

        return replace(probe, event=event)

    return {name: with_key(probe) for name, probe in probes.items()}


register(
    Case(
        name="product-deployed",
        module="handler",
        description="the product as deployed, cold only: `handler.py` with the template's configuration "
        "(API key ring and requestState keys in SSM, DynamoDB item store, task worker function, JSON logs "
        "and EMF; tracing off), AWS emulated by moto on 127.0.0.1; the first call fetches the key ring",
        probes=_deployed_probes(),
        warm=(),
        cold=("initialize", "call"),
        env=_deployed_env,
        setup=_deployed_setup,
    )
)

"""The first request after a simulated SnapStart restore: cases `restore` and `restore-ssm`.

Each run is a child process of its own (`bench.snapstart`); these cases give it its spec (`extras["restore"]`).
`restore-ssm` keeps the API key ring in SSM on moto's server (127.0.0.1).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from bench import aws
from bench.cases import Case, register, standard_probes
from bench.product_setup import AUTH, DEV_KEY, LAMBDA_LIKE, add_call_with_key

KEYS_PARAM = "/mcp-bench/api-keys"

_ssm: dict[str, str] = {}


@contextlib.contextmanager
def _ssm_ring() -> Iterator[None]:
    from app.auth.keyring import digest_hex, generate_key

    with aws.moto_server() as endpoint:
        key_id, key = generate_key()
        ring = {key_id: {"sha256": digest_hex(key), "name": "bench"}}
        aws.client("ssm", endpoint).put_parameter(Name=KEYS_PARAM, Value=json.dumps(ring), Type="SecureString")
        _ssm.update(key=key, endpoint=endpoint)
        try:
            yield
        finally:
            _ssm.clear()


def _restore_spec(auth_env: Mapping[str, str], os_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        # ITEMS_SQLITE_PATH: the child makes it a temp file of its own.
        "env": {**auth_env},
        "os_environ": dict(os_env or {}),
        "observability_env": LAMBDA_LIKE,
    }


register(
    Case(
        name="restore",
        module="bench.snapstart",
        description="first tools/call after a simulated SnapStart restore (before_snapshot, after_restore) "
        "vs warm calls, in a fresh process; production config, local dev key (no SSM)",
        probes=standard_probes(headers=AUTH, modern=False),
        warm=(),
        cold=(),
        extras={"restore": lambda: _restore_spec({"MCP_DEV_API_KEY": DEV_KEY})},
    )
)
register(
    Case(
        name="restore-ssm",
        module="bench.snapstart",
        description="the same with the API key ring in SSM (moto on 127.0.0.1): after_restore invalidates "
        "it, so the first request refetches it (one GetParameter on a never-used SSM client)",
        probes=add_call_with_key(lambda: _ssm["key"]),
        warm=(),
        cold=(),
        setup=_ssm_ring,
        extras={
            "restore": lambda: _restore_spec(
                {"MCP_API_KEYS_PARAM": KEYS_PARAM},
                {**aws.CREDENTIALS, "AWS_ENDPOINT_URL_SSM": _ssm["endpoint"]},
            )
        },
    )
)

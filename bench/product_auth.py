"""The `project` handler with access control only: cases `project-auth` and `project-auth-ring`.

Both are measured warm only, beside `project` (A/B call by call, `extras["paired_with"]`): what the
access check adds. `module` is "bench.product" for both, a label (the handler comes from `factory`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping

from bench.cases import Case, register, standard_probes
from bench.product_setup import AUTH, DEV_KEY, add_call_with_key, tempdir


def auth_only_handler(auth_env: Mapping[str, str]):  # noqa: ANN201 - a Lambda handler
    """The `project` server and transport with nothing but access control around it."""
    from app import Settings, create_lambda_handler
    from app.auth import AuthSettings, protect
    from bench.apps.project import build_server

    settings = Settings()  # explicit defaults, as bench.apps.project
    auth = AuthSettings.from_env(auth_env)
    return create_lambda_handler(build_server(), settings, wrap=lambda app: protect(app, settings, auth))


register(
    Case(
        name="project-auth",
        module="bench.product",
        description="`project` + access control only (protect(), local dev API key as Bearer)",
        probes=standard_probes(headers=AUTH),
        warm=("call", "call_modern"),
        cold=(),
        factory=lambda: auth_only_handler({"MCP_DEV_API_KEY": DEV_KEY}),
        extras={"paired_with": "project"},
    )
)

_ring: dict[str, str] = {}


@contextlib.contextmanager
def _ring_file() -> Iterator[None]:
    from app.auth.keyring import digest_hex, generate_key

    with tempdir() as tmp:
        key_id, key = generate_key()
        path = os.path.join(tmp, "ring.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump({key_id: {"sha256": digest_hex(key), "name": "bench"}}, out)
        _ring.update(key=key, path=path)
        try:
            yield
        finally:
            _ring.clear()


register(
    Case(
        name="project-auth-ring",
        module="bench.product",
        description="`project` + access control only, API key verified against a cached key ring "
        "(MCP_API_KEYS_FILE: the SSM ring's cache and check, without SSM)",
        probes=add_call_with_key(lambda: _ring["key"]),
        warm=("call",),
        cold=(),
        # TTL above the run's length: every timed call takes the cached path.
        factory=lambda: auth_only_handler({"MCP_API_KEYS_FILE": _ring["path"], "MCP_SECRET_TTL_S": "86400"}),
        setup=_ring_file,
        extras={"paired_with": "project"},
    )
)

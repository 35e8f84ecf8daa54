"""Across every path (accepted, refused, outage, rotation), no secret reaches a log record or a response."""

from __future__ import annotations

import io
import json
import logging
import secrets
import time
from typing import Any

import pytest
from mcp.server.request_state import InvalidRequestState

from app.dev.keygen import main as keygen_main
from app.auth.request_state import build_request_state_security

from .support import (
    MCP_BODY, FakeClock, FlakyProvider, JwksServer, SigningKeyPair, Ssm, auth_settings, bearer, build_app, claims,
    client, closed_port_url, new_key, oauth_env, random_kid, ring_json, sign, unsigned_token
)

pytestmark = pytest.mark.anyio

PARAM = "/mcp/api-keys"
STATE_PARAM = "/mcp/request-state-keys"
DEV_KEY = "local-dev-key-do-not-log-0123456789"


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args), str(record.exc_text or "")]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.extend(repr(v) for v in vars(record).values())
    return "\n".join(parts)


async def test_no_secret_in_any_log_record_or_response(
    ssm: Ssm,
    jwks_server: JwksServer,
    rsa_key: SigningKeyPair,
    attacker_key: SigningKeyPair,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # root: every logger, every level
    logging.getLogger("app").setLevel(logging.DEBUG)
    secrets_seen: list[str] = [DEV_KEY]
    responses: list[Any] = []

    # -- API keys: accepted, rotated, refused, expired, malformed, outage
    good, added, expired = new_key(), new_key(), new_key()
    unknown = new_key()
    forged = f"mcp_{good.key_id}_{unknown.secret}"
    for k in (good, added, expired, unknown):
        secrets_seen += [k.key, k.secret]
    ssm.put(PARAM, ring_json((good, {"name": "ci"}), (expired, {"expires": "2001-01-01T00:00:00Z"})))
    provider = FlakyProvider(ssm.provider)
    env = {"MCP_API_KEYS_PARAM": PARAM, "MCP_DEV_API_KEY": DEV_KEY, "MCP_REQUIRED_SCOPES": ""}
    app, _, _ = build_app(auth_settings(**env), provider=provider, clock=clock)
    async with client(app) as http:
        for token in (good.key, DEV_KEY, forged, unknown.key, expired.key):
            responses.append(await http.post("/mcp", json=MCP_BODY, headers=bearer(token)))
        clock.advance(11)
        ssm.put(PARAM, ring_json((good, {}), (added, {})))
        responses.append(await http.post("/mcp", json=MCP_BODY, headers=bearer(added.key)))
        for raw in (
            [(b"authorization", b"Bearer " + good.key.encode()), (b"authorization", b"Bearer " + good.key.encode())],
            [(b"authorization", good.key.encode())],
            [(b"authorization", b"Basic " + good.key.encode())],
            [(b"authorization", b"Bearer " + good.key.encode() + b"\xe9")],
            [(b"authorization", b"Bearer " + good.key.encode() * 200)],
        ):
            responses.append(await http.post("/mcp", content=b"{}", headers=raw))
        provider.down = True
        clock.advance(301)
        responses.append(await http.post("/mcp", json=MCP_BODY, headers=bearer(good.key)))

    down = FlakyProvider(ssm.provider)
    down.down = True
    outage_app, _, _ = build_app(auth_settings(MCP_API_KEYS_PARAM=PARAM), provider=down, clock=clock)
    async with client(outage_app) as http:
        responses.append(await http.post("/mcp", json=MCP_BODY, headers=bearer(good.key)))

    # -- OAuth: accepted and every kind of refusal
    now = int(time.time())
    tokens = [
        sign(rsa_key, claims()),
        sign(attacker_key, claims()),
        unsigned_token({"alg": "none", "kid": "rsa-1"}, claims()),
        sign(rsa_key, claims(exp=now - 3600)),
        sign(rsa_key, claims(aud="other")),
        sign(rsa_key, claims(), kid=random_kid()),
    ]
    secrets_seen += tokens + [t.rsplit(".", 1)[1] for t in tokens if t.rsplit(".", 1)[1]]
    oauth_app, _, _ = build_app(auth_settings(**oauth_env(jwks_server.url)), clock=clock)
    async with client(oauth_app) as http:
        for token in tokens:
            responses.append(await http.post("/mcp", json=MCP_BODY, headers=bearer(token)))
    dead_app, _, _ = build_app(auth_settings(**oauth_env(closed_port_url())), clock=clock)
    async with client(dead_app) as http:
        responses.append(await http.post("/mcp", json=MCP_BODY, headers=bearer(tokens[0])))

    # -- requestState keys: load, seal, open, tamper, rotate, outage
    current, previous = secrets.token_hex(32), secrets.token_hex(32)
    secrets_seen += [current, previous]
    ssm.put(STATE_PARAM, json.dumps({"current": current, "previous": previous}))
    security = build_request_state_security(
        auth_settings(MCP_REQUEST_STATE_KEY_PARAM=STATE_PARAM), ssm_provider=ssm.provider, clock=clock
    )
    assert security is not None
    sealed = security.codec.seal(b"state")
    assert security.codec.unseal(sealed) == b"state"
    with pytest.raises(InvalidRequestState):
        security.codec.unseal(sealed[:-4] + "AAAA")
    ssm.put(STATE_PARAM, json.dumps({"current": "short"}))
    clock.advance(301)
    security.codec.seal(b"state")  # refresh fails to parse: last good kept, warning logged

    # -- keygen prints (stdout), never logs
    out = io.StringIO()
    keygen_main(["--name", "n"], out=out)
    printed_key = next(line.strip() for line in out.getvalue().splitlines() if line.strip().startswith("mcp_"))
    secrets_seen.append(printed_key)

    # ---- the assertions
    assert len(caplog.records) > 20  # the scenario did log (refusals, warnings, errors)
    assert any(r.name.startswith("botocore") for r in caplog.records)  # third-party DEBUG captured too
    statuses = sorted({r.status_code for r in responses})
    assert statuses == [200, 401, 403, 503]  # 401 no key, 403 a key not accepted
    for record in caplog.records:
        text = _record_text(record)
        for secret in secrets_seen:
            assert secret not in text, f"secret leaked in log record from {record.name}: {record.msg!r}"
    for response in responses:
        blob = response.text + repr(response.headers)
        for secret in secrets_seen:
            assert secret not in blob

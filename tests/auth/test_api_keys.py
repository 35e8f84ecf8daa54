"""API keys from an SSM SecureString through the whole access-control layer."""

from __future__ import annotations

import logging

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from botocore.config import Config

from app.core.errors import FORBIDDEN_CODE, UNAVAILABLE_CODE
from app.auth.authn import CredentialAuthenticator

from .support import (
    MCP_BODY, FakeClock, FlakyProvider, Ssm, auth_settings, bearer, build_app, client, closed_port_url, new_key,
    ring_json
)

pytestmark = pytest.mark.anyio

PARAM = "/mcp/api-keys"


def key_settings(**extra: str):  # type: ignore[no-untyped-def]
    return auth_settings(MCP_API_KEYS_PARAM=PARAM, **extra)


async def test_valid_key_reaches_the_app_with_its_principal(ssm: Ssm, clock: FakeClock) -> None:
    key = new_key()
    ssm.put(PARAM, ring_json((key, {"name": "ci-bot", "scopes": ["mcp:tools"]})))
    app, recorder, _ = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))
    assert response.status_code == 200
    assert response.json() == {"principal": key.key_id}
    principal = recorder.calls[0]["principal"]
    assert (principal.kind, principal.id, principal.name) == ("api_key", key.key_id, "ci-bot")
    assert principal.scopes == frozenset({"mcp:tools"})
    # The SDK's access-token contextvar is set too (requestState principal binding), without the key.
    token = recorder.calls[0]["access_token"]
    assert token is not None and token.client_id == f"api_key:{key.key_id}" and token.token == ""
    # SecureString decrypted: moto returns "kms:..." ciphertext-ish text otherwise, which would not parse.
    assert ssm.calls == [PARAM]


async def test_nothing_is_fetched_per_request_once_cached_and_ttl_refreshes(ssm: Ssm, clock: FakeClock) -> None:
    key = new_key()
    ssm.put(PARAM, ring_json((key, {})))
    app, _, _ = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        for _ in range(25):
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
        assert len(ssm.calls) == 1
        clock.advance(301)
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
        assert len(ssm.calls) == 2


async def test_new_key_works_at_once_and_unknown_key_flood_is_rate_limited(ssm: Ssm, clock: FakeClock) -> None:
    old, fresh = new_key(), new_key()
    ssm.put(PARAM, ring_json((old, {})))
    app, recorder, _ = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(old.key))).status_code == 200
        clock.advance(11)
        # Rotation: the operator adds a key; it works on the very next request (forced refresh).
        ssm.put(PARAM, ring_json((old, {}), (fresh, {})))
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(fresh.key))).status_code == 200
        assert len(ssm.calls) == 2
        # A flood of unknown keys costs SSM nothing more within the refresh interval.
        for _ in range(50):
            response = await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))
            assert response.status_code == 403
        assert len(ssm.calls) == 2
        clock.advance(10)
        for _ in range(50):
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))).status_code == 403
        assert len(ssm.calls) == 3
    assert {c["principal"].id for c in recorder.calls} == {old.key_id, fresh.key_id}


async def test_revocation_by_removing_the_entry(ssm: Ssm, clock: FakeClock) -> None:
    keep, revoke = new_key(), new_key()
    ssm.put(PARAM, ring_json((keep, {}), (revoke, {})))
    app, _, authenticator = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(revoke.key))).status_code == 200
        ssm.put(PARAM, ring_json((keep, {})))
        clock.advance(301)  # revocation takes effect within one TTL and one refresh
        # The first request after the TTL is answered from the last ring while the refresh runs.
        await http.post("/mcp", json=MCP_BODY, headers=bearer(keep.key))
        assert authenticator.key_ring.wait_for_refresh(timeout=30)
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(revoke.key))
        assert response.status_code == 403
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(keep.key))).status_code == 200


async def test_expired_key_is_refused(ssm: Ssm, clock: FakeClock, wall: FakeClock) -> None:
    key, old = new_key(), new_key()
    ssm.put(PARAM, ring_json((key, {"expires": wall.now + 60}), (old, {"expires": "2001-01-01T00:00:00Z"})))
    app, _, _ = build_app(key_settings(), provider=ssm.provider, clock=clock, wall=wall)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(old.key))).status_code == 403
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
        wall.advance(61)
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Forbidden: this API key was not accepted; check the key in this client's Authorization: Bearer header"
        " (invalid API key)"
    )


async def test_wrong_secret_for_a_known_key_id_is_refused(ssm: Ssm, clock: FakeClock) -> None:
    key, other = new_key(), new_key()
    ssm.put(PARAM, ring_json((key, {})))
    app, recorder, _ = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(f"mcp_{key.key_id}_{other.secret}"))
    assert response.status_code == 403
    assert "www-authenticate" not in response.headers  # API-key mode: nothing for a client to start OAuth on
    assert recorder.calls == []


async def test_ssm_down_and_nothing_cached_answers_503_and_never_reaches_the_tool(clock: FakeClock) -> None:
    # A real outage: SSM endpoint refusing connections (no moto), short timeouts, no retries.
    ssm_client = boto3.client(
        "ssm",
        endpoint_url=closed_port_url().rsplit("/", 1)[0],
        config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
    )
    provider = FlakyProvider(SSMProvider(boto3_client=ssm_client))
    app, recorder, _ = build_app(key_settings(), provider=provider, clock=clock)
    async with client(app) as http:
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "10"
        body = response.json()
        assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == UNAVAILABLE_CODE
        # While SSM is down, further requests fail fast without calling it again.
        for _ in range(10):
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))).status_code == 503
    assert provider.calls == 1
    assert recorder.calls == []


async def test_missing_parameter_fails_closed(ssm: Ssm, clock: FakeClock) -> None:
    app, recorder, _ = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))
    assert response.status_code == 503 and "retry-after" in response.headers
    assert recorder.calls == []


async def test_malformed_ring_with_nothing_cached_fails_closed(ssm: Ssm, clock: FakeClock) -> None:
    ssm.put(PARAM, "this is not json")
    app, recorder, _ = build_app(key_settings(), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))).status_code == 503
    assert recorder.calls == []


async def test_last_good_ring_survives_an_outage(ssm: Ssm, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    key = new_key()
    ssm.put(PARAM, ring_json((key, {})))
    provider = FlakyProvider(ssm.provider)
    app, _, authenticator = build_app(key_settings(), provider=provider, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
        provider.down = True
        clock.advance(301)
        with caplog.at_level(logging.WARNING, logger="app.auth"):
            for _ in range(10):
                assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
            # The refresh runs beside the requests (stale-while-revalidate): let it finish and log.
            assert authenticator.key_ring.wait_for_refresh(5)
        assert any(getattr(r, "operation", "") == "refresh failed; last good value kept" for r in caplog.records)
        assert provider.calls == 2  # one failed refresh, then the retry interval holds
        # A broken ring value is also survived on the last good ring.
        provider.down = False
        ssm.put(PARAM, "{broken")
        clock.advance(301)
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200


async def test_required_scopes_apply_to_keys(ssm: Ssm, clock: FakeClock) -> None:
    scoped, bare = new_key(), new_key()
    ssm.put(PARAM, ring_json((scoped, {"scopes": ["mcp:tools", "x"]}), (bare, {})))
    app, _, _ = build_app(key_settings(MCP_REQUIRED_SCOPES="mcp:tools"), provider=ssm.provider, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(scoped.key))).status_code == 200
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer(bare.key))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer realm="mcp", error="insufficient_scope", scope="mcp:tools"'
    assert response.json()["error"]["code"] == FORBIDDEN_CODE


async def test_local_file_ring_and_dev_key(tmp_path, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    ring_file = tmp_path / "ring.json"
    first, second = new_key(), new_key()
    ring_file.write_text(ring_json((first, {})))
    settings = auth_settings(MCP_API_KEYS_FILE=str(ring_file), MCP_DEV_API_KEY="local-dev-key-0123456789")
    app, recorder, authenticator = build_app(settings, clock=clock)
    assert isinstance(authenticator, CredentialAuthenticator)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(first.key))).status_code == 200
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer("local-dev-key-0123456789"))).status_code == 200
        clock.advance(10)
        ring_file.write_text(ring_json((first, {}), (second, {})))
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(second.key))).status_code == 200
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer("local-dev-key-0123456789x"))).status_code == 403
    kinds = [c["principal"].kind for c in recorder.calls]
    assert kinds == ["api_key", "local", "api_key"]


async def test_generated_dev_key_works(clock: FakeClock) -> None:
    settings = auth_settings()
    assert settings.dev_api_key is not None
    app, recorder, _ = build_app(settings, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(settings.dev_api_key))).status_code == 200
        assert (await http.post("/mcp", json=MCP_BODY)).status_code == 401  # no key at all
    assert recorder.calls[0]["principal"].id == "local-dev-key"


async def test_auth_mode_none_binds_the_local_developer() -> None:
    app, recorder, _ = build_app(auth_settings(MCP_AUTH_MODE="none"))
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY)).status_code == 200
    assert recorder.calls[0]["principal"].id == "local-developer"


async def test_warm_path_answers_only_for_a_cached_valid_key(ssm: Ssm, clock: FakeClock) -> None:
    """The synchronous warm path never refuses: anything but a cached, valid, unexpired key goes the full way."""
    key, other = new_key(), new_key()
    ssm.put(PARAM, ring_json((key, {"name": "ci-bot"})))
    app, _, authenticator = build_app(key_settings(), provider=ssm.provider, clock=clock)
    assert authenticator.authenticate_cached(f"Bearer {key.key}".encode()) is None  # nothing cached yet
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
        cached = authenticator.authenticate_cached(f"Bearer {key.key}".encode())
        assert cached is not None and cached.id == key.key_id
        for bad in (f"Bearer {other.key}", "Basic abc", f"Bearer {key.key}x", ""):
            assert authenticator.authenticate_cached(bad.encode()) is None
        # An unknown key still goes the full way and is refused there (its forced refresh is
        # rate-limited: the ring was fetched a moment ago on this clock).
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(other.key))).status_code == 403
    assert ssm.calls == [PARAM]

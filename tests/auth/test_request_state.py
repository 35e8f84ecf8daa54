"""requestState sealing keys from SSM: shared across instances, rotation, grace period."""

from __future__ import annotations

import json
import secrets

import pytest
from mcp.server.request_state import InvalidRequestState, RequestStateSecurity

from app.auth.request_state import SSMRequestStateCodec, build_request_state_security, parse_sealing_ring
from app.core.errors import SecretUnavailable

from .support import FakeClock, FlakyProvider, Ssm, auth_settings

PARAM = "/mcp/request-state-keys"


def secret() -> str:
    return secrets.token_hex(32)


def instance(ssm_provider, clock: FakeClock, wall: FakeClock | None = None, **env: str) -> RequestStateSecurity:  # type: ignore[no-untyped-def]
    """One Lambda instance's policy (its own cache), reading the shared parameter."""
    auth = auth_settings(MCP_DEV_API_KEY="local-dev-key-0123456789", MCP_REQUEST_STATE_KEY_PARAM=PARAM, **env)
    kwargs = {"wall_clock": wall} if wall is not None else {}
    security = build_request_state_security(auth, ssm_provider=ssm_provider, clock=clock, **kwargs)
    assert security is not None
    return security


def test_not_configured_returns_none() -> None:
    assert build_request_state_security(auth_settings()) is None


def test_policy_carries_ttl_and_audience(ssm: Ssm, clock: FakeClock) -> None:
    security = instance(ssm.provider, clock, MCP_REQUEST_STATE_TTL_S="120", MCP_REQUEST_STATE_AUDIENCE="svc")
    assert isinstance(security.codec, SSMRequestStateCodec)
    assert security.ttl == 120 and security.audience == "svc"


def test_two_instances_share_the_key(ssm: Ssm, clock: FakeClock) -> None:
    ssm.put(PARAM, json.dumps({"current": secret()}))
    a, b = instance(ssm.provider, clock), instance(ssm.provider, clock)
    token = a.codec.seal(b"state")
    assert b.codec.unseal(token) == b"state"
    assert a.codec.unseal(b.codec.seal(b"other")) == b"other"


def test_codec_built_once_per_ring_value_and_cached(ssm: Ssm, clock: FakeClock) -> None:
    ssm.put(PARAM, json.dumps({"current": secret()}))
    codec = instance(ssm.provider, clock).codec
    assert isinstance(codec, SSMRequestStateCodec)
    for _ in range(20):
        codec.unseal(codec.seal(b"x"))
    ring = codec.ring.peek()
    assert len(ssm.calls) == 1
    clock.advance(301)
    codec.seal(b"x")
    assert len(ssm.calls) == 2
    assert codec.ring.peek() is ring  # unchanged value: same parsed ring, same AES-GCM codecs


def test_rotation_with_previous_and_grace_period(ssm: Ssm, clock: FakeClock, wall: FakeClock) -> None:
    old, new = secret(), secret()
    ssm.put(PARAM, json.dumps({"current": old}))
    stale = instance(ssm.provider, clock, wall)  # an instance that loaded the old ring
    sealed_old = stale.codec.seal(b"before rotation")

    until = wall.now + 900
    ssm.put(PARAM, json.dumps({"current": new, "previous": old, "previous_valid_until": until}))
    fresh = instance(ssm.provider, clock, wall)
    sealed_new = fresh.codec.seal(b"after rotation")
    assert fresh.codec.unseal(sealed_old) == b"before rotation"  # previous accepted in the grace period

    # The stale instance sees a token under a key it does not know: one forced refresh, then it opens.
    clock.advance(11)
    calls = len(ssm.calls)
    assert stale.codec.unseal(sealed_new) == b"after rotation"
    assert len(ssm.calls) == calls + 1

    wall.advance(901)
    with pytest.raises(InvalidRequestState):
        fresh.codec.unseal(sealed_old)
    assert fresh.codec.unseal(fresh.codec.seal(b"still fine")) == b"still fine"


def test_unknown_key_refresh_is_rate_limited(ssm: Ssm, clock: FakeClock) -> None:
    ssm.put(PARAM, json.dumps({"current": secret()}))
    codec = instance(ssm.provider, clock).codec
    codec.seal(b"warm")
    foreign = build_request_state_security(
        auth_settings(MCP_REQUEST_STATE_KEY_PARAM="/other"),
        loader=lambda: parse_sealing_ring(secret()),
        clock=clock,
    )
    assert foreign is not None
    clock.advance(11)
    for _ in range(20):
        with pytest.raises(InvalidRequestState):
            codec.unseal(foreign.codec.seal(b"x"))
    assert len(ssm.calls) == 2


def test_tampered_token_is_refused(ssm: Ssm, clock: FakeClock) -> None:
    ssm.put(PARAM, secret())
    codec = instance(ssm.provider, clock).codec
    token = codec.seal(b"state")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, "v1.", "v2." + token[3:], "garbage"):
        with pytest.raises(InvalidRequestState):
            codec.unseal(bad)


def test_comma_list_format(ssm: Ssm, clock: FakeClock) -> None:
    first, second = secret(), secret()
    ssm.put(PARAM, second)
    old_instance = instance(ssm.provider, clock)
    sealed = old_instance.codec.seal(b"x")
    ssm.put(PARAM, f"{first}, {second}")
    clock.advance(301)
    codec = instance(ssm.provider, clock).codec
    assert codec.unseal(sealed) == b"x"


def test_outage_fails_closed(ssm: Ssm, clock: FakeClock) -> None:
    provider = FlakyProvider(ssm.provider)
    provider.down = True
    codec = instance(provider, clock).codec
    with pytest.raises(SecretUnavailable):
        codec.seal(b"x")
    with pytest.raises(InvalidRequestState):
        codec.unseal("v1.AAAA")


def test_last_good_ring_survives_an_outage(ssm: Ssm, clock: FakeClock) -> None:
    ssm.put(PARAM, json.dumps({"current": secret()}))
    provider = FlakyProvider(ssm.provider)
    codec = instance(provider, clock).codec
    token = codec.seal(b"x")
    provider.down = True
    clock.advance(301)
    assert codec.unseal(token) == b"x"


@pytest.mark.parametrize(
    "value",
    [
        json.dumps({"current": "too-short"}),
        json.dumps({"previous": "p" * 40}),
        json.dumps({"current": "c" * 40, "previous": "short"}),
        json.dumps(["c" * 40]),
        "{not json",
        " , ",
        "short",
    ],
)
def test_bad_rings_are_rejected_without_echo(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_sealing_ring(value)
    for fragment in ("too-short", "p" * 40, "c" * 40, "short"):
        if fragment in value:
            assert fragment not in str(info.value)


def test_duplicate_keys_are_tolerated() -> None:
    same = secret()
    ring = parse_sealing_ring(json.dumps({"current": same, "previous": same, "next": same}))
    codec = ring.codec_at(0)
    assert codec.unseal(codec.seal(b"x")) == b"x"

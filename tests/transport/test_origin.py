"""app.transport.origin: Host and Origin allowlists."""

from __future__ import annotations

import pytest

from app.transport.origin import LOOPBACK_HOSTS, OriginPolicy

API = "abc123.execute-api.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    "host,origin,expected",
    [
        (API, None, None),
        (API, f"https://{API}", None),
        (API, "https://app.example.org", None),
        (API, "https://APP.example.org/", None),
        (API, "https://evil.example.com", 403),
        (API, "null", 403),
    ],
    ids=["no-origin", "same-origin", "allowed", "allowed-normalized", "foreign", "opaque-origin"],
)
def test_origin_policy_behind_api_gateway(host: str, origin: str | None, expected: int | None) -> None:
    policy = OriginPolicy.build(["https://app.example.org"])
    refusal = policy.refusal(host, origin)
    assert (refusal is None) if expected is None else (refusal is not None and refusal[0] == expected)


@pytest.mark.parametrize(
    "host,origin,expected",
    [
        ("127.0.0.1:8000", None, None),
        ("localhost:8000", "http://localhost:5173", None),
        ("[::1]:8000", "http://[::1]:8000", None),
        ("evil.example.com", None, 421),
        (None, None, 421),
        ("127.0.0.1:8000", "http://evil.example.com", 403),
    ],
    ids=["loopback", "local-page", "ipv6", "rebinding", "no-host", "foreign-page"],
)
def test_origin_policy_on_a_developer_machine(host: str | None, origin: str | None, expected: int | None) -> None:
    policy = OriginPolicy.build([], LOOPBACK_HOSTS)
    refusal = policy.refusal(host, origin)
    assert (refusal is None) if expected is None else (refusal is not None and refusal[0] == expected)

"""OAuth resource-server mode: JWT access tokens against a JWKS served over loopback HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization

from app.core.errors import UNAVAILABLE_CODE
from app.auth.jwks import parse_jwks

from .support import (
    ISSUER, MCP_BODY, RESOURCE, FakeClock, JwksServer, SigningKeyPair, Ssm, auth_settings, b64u, bearer, build_app,
    claims, client, closed_port_url, new_key, oauth_env, random_kid, ring_json, sign, unsigned_token
)

pytestmark = pytest.mark.anyio


def oauth_app(url: str, clock: FakeClock, **extra: str):  # type: ignore[no-untyped-def]
    return build_app(auth_settings(**oauth_env(url, **extra)), clock=clock)


async def post(app, token: str | None):  # type: ignore[no-untyped-def]
    async with client(app) as http:
        return await http.post("/mcp", json=MCP_BODY, headers=bearer(token) if token is not None else {})


async def test_rs256_and_es256_tokens_over_real_loopback_jwks(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, ec_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, recorder, _ = oauth_app(jwks_server.url, clock)
    assert (await post(app, sign(rsa_key, claims(sub="alice", username="Alice")))).status_code == 200
    assert (await post(app, sign(ec_key, claims(sub="bob", scope=None, scp=["s1", "s2"])))).status_code == 200
    alice, bob = (c["principal"] for c in recorder.calls)
    assert (alice.kind, alice.id, alice.name) == ("oauth", "alice", "Alice")
    assert alice.scopes == frozenset({"mcp:tools", "mcp:read"})
    assert bob.scopes == frozenset({"s1", "s2"})
    token = recorder.calls[0]["access_token"]
    assert token.client_id == "oauth:alice" and token.subject == "alice" and token.claims == {"iss": ISSUER}
    assert token.token == ""
    assert jwks_server.hits == 1


def _hs256_with_public_key(key: SigningKeyPair) -> str:
    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64u(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = b64u(json.dumps(claims()).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64u(signature)}"


def _rs256_header_on_ec_key(rsa_key: SigningKeyPair, ec_key: SigningKeyPair) -> str:
    # Signed by the RSA key but naming the EC key's kid: key/alg confusion.
    return sign(rsa_key, claims(), kid=ec_key.kid)


def _tampered(key: SigningKeyPair) -> str:
    header, _, signature = sign(key, claims()).split(".")
    return f"{header}.{b64u(json.dumps(claims(sub='admin')).encode())}.{signature}"


REFUSED = {
    "forged signature": lambda r, e, a: sign(a, claims()),
    "alg none": lambda r, e, a: unsigned_token({"alg": "none", "kid": r.kid}, claims()),
    "alg None spelled": lambda r, e, a: unsigned_token({"alg": "None", "kid": r.kid}, claims()),
    "HS256 with the public key as secret": lambda r, e, a: _hs256_with_public_key(r),
    "alg/key mismatch": lambda r, e, a: _rs256_header_on_ec_key(r, e),
    "wrong audience": lambda r, e, a: sign(r, claims(aud="https://other.example.com/mcp")),
    "no audience": lambda r, e, a: sign(r, claims(aud=None)),
    "wrong issuer": lambda r, e, a: sign(r, claims(iss="https://evil.example.com")),
    "expired": lambda r, e, a: sign(r, claims(exp=int(time.time()) - 120)),
    "not yet valid": lambda r, e, a: sign(r, claims(nbf=int(time.time()) + 120)),
    "no exp": lambda r, e, a: sign(r, claims(exp=None)),
    "exp not a number": lambda r, e, a: sign(r, claims(exp="tomorrow")),
    "id token": lambda r, e, a: sign(r, claims(token_use="id")),
    "no subject": lambda r, e, a: sign(r, claims(sub=None)),
    "no kid": lambda r, e, a: unsigned_token({"alg": "RS256"}, claims(), b"x" * 256),
    "crit header": lambda r, e, a: unsigned_token({"alg": "RS256", "kid": r.kid, "crit": ["exp"]}, claims(), b"x"),
    "garbage": lambda r, e, a: "a.b.c",
    "tampered payload": lambda r, e, a: _tampered(r),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_bad_tokens_are_refused(  # type: ignore[no-untyped-def]
    case, jwks_server: JwksServer, rsa_key, ec_key, attacker_key, clock: FakeClock
) -> None:
    app, recorder, _ = oauth_app(jwks_server.url, clock)
    response = await post(app, REFUSED[case](rsa_key, ec_key, attacker_key))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"')
    assert 'error="invalid_token"' in challenge
    assert recorder.calls == []


async def test_expired_reason_is_told_and_leeway_applies(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, _, _ = oauth_app(jwks_server.url, clock)
    now = int(time.time())
    response = await post(app, sign(rsa_key, claims(exp=now - 120)))
    assert 'error_description="token expired"' in response.headers["www-authenticate"]
    assert (await post(app, sign(rsa_key, claims(exp=now - 5)))).status_code == 200  # within 30 s leeway
    assert (await post(app, sign(rsa_key, claims(nbf=now + 5)))).status_code == 200
    strict, _, _ = oauth_app(jwks_server.url, clock, MCP_OAUTH_LEEWAY_S="0")
    assert (await post(strict, sign(rsa_key, claims(nbf=now + 5)))).status_code == 401


async def test_audience_list_and_cognito_client_id_audience(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, _, _ = oauth_app(jwks_server.url, clock)
    assert (await post(app, sign(rsa_key, claims(aud=["x", RESOURCE])))).status_code == 200
    cognito, recorder, _ = oauth_app(
        jwks_server.url, clock, MCP_OAUTH_AUDIENCE="app-client-1", MCP_OAUTH_AUDIENCE_CLAIM="client_id"
    )
    access = claims(aud=None, client_id="app-client-1", token_use="access", username="carol")
    assert (await post(cognito, sign(rsa_key, access))).status_code == 200
    assert recorder.calls[0]["principal"].name == "carol"
    assert (await post(cognito, sign(rsa_key, {**access, "client_id": "other-client"}))).status_code == 401
    # A Cognito ID token (aud = client id, no client_id claim) is not an access token.
    id_token = claims(aud="app-client-1", token_use="id")
    assert (await post(cognito, sign(rsa_key, id_token))).status_code == 401


async def test_unknown_kid_flood_costs_one_jwks_fetch_per_interval(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, _, _ = oauth_app(jwks_server.url, clock)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    assert jwks_server.hits == 1
    clock.advance(11)
    for _ in range(50):
        assert (await post(app, sign(rsa_key, claims(), kid=random_kid()))).status_code == 401
    assert jwks_server.hits == 2
    clock.advance(10)
    for _ in range(50):
        assert (await post(app, sign(rsa_key, claims(), kid=random_kid()))).status_code == 401
    assert jwks_server.hits == 3


async def test_issuer_key_rotation_is_picked_up_and_ttl_refetches(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, _, authenticator = oauth_app(jwks_server.url, clock)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    clock.advance(11)
    jwks_server.keys.append(rsa_key.public_jwk(kid="rsa-2"))
    assert (await post(app, sign(rsa_key, claims(), kid="rsa-2"))).status_code == 200
    assert jwks_server.hits == 2
    for _ in range(10):
        assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    assert jwks_server.hits == 2
    clock.advance(3601)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200  # the last JWKS, while it refreshes
    assert authenticator.jwt_auth.jwks.wait_for_refresh(timeout=30)
    assert jwks_server.hits == 3


async def test_unreachable_jwks_with_nothing_cached_is_503(rsa_key: SigningKeyPair, clock: FakeClock) -> None:
    app, recorder, _ = oauth_app(closed_port_url(), clock)
    response = await post(app, sign(rsa_key, claims()))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    assert response.json()["error"]["code"] == UNAVAILABLE_CODE
    assert recorder.calls == []


async def test_jwks_server_error_then_recovery(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    jwks_server.status = 500
    app, recorder, _ = oauth_app(jwks_server.url, clock)
    for _ in range(5):
        assert (await post(app, sign(rsa_key, claims()))).status_code == 503
    assert jwks_server.hits == 1
    jwks_server.status = 200
    clock.advance(10)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    assert len(recorder.calls) == 1


async def test_last_good_jwks_survives_an_issuer_outage(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, _, authenticator = oauth_app(jwks_server.url, clock)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    jwks_server.status = 503
    clock.advance(3601)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    assert authenticator.jwt_auth.jwks.wait_for_refresh(timeout=30)
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    assert jwks_server.hits == 2


async def test_alg_none_and_hs256_never_cause_a_jwks_fetch(rsa_key: SigningKeyPair, clock: FakeClock) -> None:
    fetches: list[int] = []

    def loader():  # type: ignore[no-untyped-def]
        fetches.append(1)
        return parse_jwks(json.dumps({"keys": [rsa_key.public_jwk()]}))

    app, _, _ = build_app(auth_settings(**oauth_env("https://idp.example.com/jwks")), clock=clock, jwks_loader=loader)
    assert (await post(app, unsigned_token({"alg": "none", "kid": "rsa-1"}, claims()))).status_code == 401
    assert (await post(app, _hs256_with_public_key(rsa_key))).status_code == 401
    assert fetches == []


async def test_required_scopes_give_403_with_challenge(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    app, recorder, _ = oauth_app(jwks_server.url, clock, MCP_REQUIRED_SCOPES="mcp:tools,mcp:admin")
    response = await post(app, sign(rsa_key, claims()))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp", '
        'error="insufficient_scope", scope="mcp:admin mcp:tools"'
    )
    assert (await post(app, sign(rsa_key, claims(scope="mcp:tools mcp:admin")))).status_code == 200
    assert len(recorder.calls) == 1


async def test_missing_token_challenge_has_no_error(jwks_server: JwksServer, clock: FakeClock) -> None:
    app, _, _ = oauth_app(jwks_server.url, clock)
    response = await post(app, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
    )


def _authorizer_scope(claims_: dict[str, str]) -> dict[str, object]:
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims_, "scopes": None}}}}


class EventInjector:
    """Puts a Lambda event into the scope as Mangum does (scope["aws.event"])."""

    def __init__(self, app, event) -> None:  # type: ignore[no-untyped-def]
        self.app, self.event = app, event

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await self.app({**scope, "aws.event": self.event}, receive, send)


async def test_api_gateway_authorizer_claims_ignored_unless_trusted(jwks_server: JwksServer, clock: FakeClock) -> None:
    forged = _authorizer_scope({"sub": "mallory", "iss": ISSUER, "scope": "mcp:tools"})
    app, recorder, _ = oauth_app(jwks_server.url, clock)
    assert (await post(EventInjector(app, forged), None)).status_code == 401
    assert recorder.calls == []

    trusted, recorder, _ = oauth_app(jwks_server.url, clock, MCP_OAUTH_TRUST_API_GATEWAY_AUTHORIZER="true")
    assert (await post(EventInjector(trusted, forged), None)).status_code == 200
    principal = recorder.calls[0]["principal"]
    assert (principal.id, principal.kind, principal.scopes) == ("mallory", "oauth", frozenset({"mcp:tools"}))
    other_issuer = _authorizer_scope({"sub": "eve", "iss": "https://evil.example.com"})
    assert (await post(EventInjector(trusted, other_issuer), None)).status_code == 401
    assert jwks_server.hits == 0


async def test_api_key_and_oauth_together(
    ssm: Ssm, jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock
) -> None:
    key = new_key()
    ssm.put("/k", ring_json((key, {})))
    auth = auth_settings(**oauth_env(jwks_server.url, MCP_AUTH_MODE="api_key+oauth", MCP_API_KEYS_PARAM="/k"))
    app, recorder, _ = build_app(auth, provider=ssm.provider, clock=clock)
    assert (await post(app, key.key)).status_code == 200
    assert (await post(app, sign(rsa_key, claims()))).status_code == 200
    assert (await post(app, "not-a-key-nor-a-jwt")).status_code == 401
    assert [c["principal"].kind for c in recorder.calls] == ["api_key", "oauth"]


def test_jwks_parsing_keeps_only_safe_keys(rsa_key: SigningKeyPair, ec_key: SigningKeyPair) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    import jwt as pyjwt

    small_jwk = pyjwt.algorithms.RSAAlgorithm.to_jwk(small.public_key(), as_dict=True) | {"kid": "small"}
    p384 = pyjwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key(), as_dict=True)
    private_jwk = pyjwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.private, as_dict=True) | {"kid": "leaked"}
    keys = parse_jwks(
        json.dumps(
            {
                "keys": [
                    rsa_key.public_jwk(),
                    ec_key.public_jwk(),
                    small_jwk,
                    p384 | {"kid": "p384"},
                    private_jwk,
                    rsa_key.public_jwk(kid="enc") | {"use": "enc"},
                    rsa_key.public_jwk(kid="hs") | {"alg": "HS256"},
                    {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
                    "not-an-object",
                ]
            }
        )
    )
    assert sorted(keys) == ["ec-1", "rsa-1"]
    assert keys["rsa-1"].alg == "RS256" and keys["ec-1"].alg == "ES256"
    with pytest.raises(ValueError):
        parse_jwks("{}")


async def test_verified_token_is_remembered_until_exp_or_max_age(
    jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock, wall: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.auth.authn as authn

    checks: list[int] = []
    real = authn.verify_token

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        checks.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(authn, "verify_token", counting)
    app, recorder, _ = build_app(auth_settings(**oauth_env(jwks_server.url)), clock=clock, wall=wall)
    short = sign(rsa_key, claims(exp=int(wall.now) + 60))
    long = sign(rsa_key, claims(exp=int(wall.now) + 3600))
    async with client(app) as http:
        for _ in range(10):
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(short))).status_code == 200
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(long))).status_code == 200
        assert len(checks) == 2
        wall.advance(91)  # past exp + 30 s leeway: the remembered verdict lapses with the token
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(short))).status_code == 401
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(long))).status_code == 200
        assert len(checks) == 3
        wall.advance(300)  # max age (secret TTL): verified again
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(long))).status_code == 200
        assert len(checks) == 4
    # The scope check runs on every call, cached or not.
    assert all(c["principal"].scopes == frozenset({"mcp:tools", "mcp:read"}) for c in recorder.calls)

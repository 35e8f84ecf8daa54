"""Micro-benchmark of the warm auth check (not a test; no timing is asserted anywhere).

    .venv/bin/python -m tests.auth.bench_auth   (from the repository root)

Coroutines are driven with `send(None)`: the warm path never suspends, so this
measures the code itself without event-loop scheduling.
"""

from __future__ import annotations

import hashlib
import json
import time
import timeit
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.authn import CredentialAuthenticator, JwtAuthenticator
from app.auth.cache import RefreshingCache
from app.auth.config import AuthSettings
from app.auth.jwks import parse_jwks
from app.auth.jwt_verify import JwtPolicy
from app.auth.keyring import generate_key, parse_key_ring
from app.auth.middleware import AccessControl, protect
from app.transport.config import Settings


def drive(coro: Any) -> Any:
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("suspended: not the warm path")


def main(n: int = 200_000) -> None:
    key_id, key = generate_key()
    entry = {"sha256": hashlib.sha256(key.encode()).hexdigest(), "scopes": ["mcp:tools"]}
    ring_value = json.dumps({key_id: entry})
    ring: RefreshingCache[Any] = RefreshingCache(
        lambda: parse_key_ring(ring_value), label="bench", ttl=1e9, min_interval=10
    )
    ring.get()
    authn = CredentialAuthenticator(key_ring=ring, required_scopes=("mcp:tools",))
    header = b"Bearer " + key.encode()
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "root_path": "",
        "headers": [
            (b"host", b"abc.execute-api.eu-west-1.amazonaws.com"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json, text/event-stream"),
            (b"mcp-protocol-version", b"2025-06-18"),
            (b"authorization", header),
            (b"user-agent", b"bench"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-for", b"1.2.3.4"),
        ],
    }
    assert drive(authn.authenticate(header, scope)).id == key_id

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    auth = AuthSettings(mode="api_key")
    settings = Settings(allowed_origins=("https://app.example.com",))
    guarded = AccessControl(inner, authn, settings, auth)
    stack = protect(inner, settings, auth, authenticator=authn)

    def best_of(stmt: Any, count: int) -> float:
        return min(timeit.repeat(stmt, number=count, repeat=5)) / count * 1e6

    def best(stmt: Any) -> float:
        return best_of(stmt, n)

    t_auth = best(lambda: drive(authn.authenticate(header, scope)))
    t_mw = best(lambda: drive(guarded(scope, None, None)))
    t_inner = best(lambda: drive(inner(scope, None, None)))
    t_stack = best(lambda: drive(stack(scope, None, None)))

    # OAuth: first call verifies the signature, later calls hit the verified-token cache.
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True) | {"kid": "k1"}
    jwks = RefreshingCache(lambda: parse_jwks(json.dumps({"keys": [jwk]})), label="bench", ttl=1e9, min_interval=10)
    jwks.get()
    policy = JwtPolicy(issuer="https://idp", audiences=frozenset({"https://mcp/mcp"}))
    oauth = CredentialAuthenticator(jwt_auth=JwtAuthenticator(jwks, policy, max_age=1e9))
    claims = {"iss": "https://idp", "aud": "https://mcp/mcp", "sub": "u", "exp": time.time() + 1e6}
    token_header = b"Bearer " + jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"}).encode()
    t_jwt_cold = best_of(lambda: drive(JwtAuthenticator(jwks, policy).verify(token_header[7:])), 500)
    drive(oauth.authenticate(token_header, scope))
    t_jwt = best(lambda: drive(oauth.authenticate(token_header, scope)))
    print(f"authenticate() warm, API key:             {t_auth:.2f} us/call")
    print(f"AccessControl total (incl. contextvars):  {t_mw:.2f} us/call")
    print(f"  minus bare inner app call:              {t_mw - t_inner:.2f} us/call")
    print(f"protect() stack (CORS + AccessControl):  {t_stack - t_inner:.2f} us/call")
    print(f"authenticate() warm, OAuth JWT (cached):  {t_jwt:.2f} us/call")
    print(f"JWT full verification (RS256, uncached): {t_jwt_cold:.2f} us/call")
    print(f"python {time.get_clock_info('perf_counter').implementation}, n={n}")


if __name__ == "__main__":
    main()

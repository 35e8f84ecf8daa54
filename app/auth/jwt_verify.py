"""OAuth 2.1 access tokens (JWT) for a resource server: header, signature, claims.

PyJWT checks the signature only, under the single algorithm pinned to the
key the `kid` names; every claim is checked here against an injected clock,
so the rules are explicit and testable:

* `alg` must be RS256 or ES256 and equal to the key's algorithm: `none`,
  HS256 (including HS256 "signed" with the public key), and cross-type
  confusion are refused before any cryptography runs. `crit` is refused.
* `iss` equals the configured issuer exactly.
* The audience claim (`aud` by default, which may be a list; or `client_id`
  for Cognito access tokens, which carry no `aud`) must hold an accepted value.
* `exp` is required, `nbf` honoured if present, both with `leeway` seconds.
* A `token_use` claim (Cognito) must be `access`: ID tokens are not credentials here.
Scopes come from `scope` (space-separated) and/or `scp` (list or string).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidCredentials
from app.auth.jwks import ALLOWED_ALGORITHMS, SigningKey
from app.core.principal import Principal

_SIGNATURE_ONLY = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "require": [],
}


@dataclass(frozen=True)
class JwtPolicy:
    issuer: str
    audiences: frozenset[str]
    audience_claim: str = "aud"
    leeway: float = 30.0


def read_header(token: bytes) -> tuple[str, str]:
    """(alg, kid) from the unverified header, refusing anything not acceptable."""
    import jwt  # lazily: PyJWT is only needed with OAuth configured (cold start without it)

    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidCredentials("malformed token") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise InvalidCredentials("token algorithm not accepted")
    if "crit" in header:
        raise InvalidCredentials("token algorithm not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise InvalidCredentials("token has no usable key id")
    return alg, kid


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidCredentials("malformed token")
    return float(value)


def verify_token(token: bytes, alg: str, key: SigningKey, policy: JwtPolicy, now: float) -> dict[str, Any]:
    """Signature and claims; returns the claims. Raises InvalidCredentials."""
    import jwt  # see read_header

    if key.alg != alg:
        raise InvalidCredentials("token algorithm not accepted")
    try:
        claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=[key.alg], options=_SIGNATURE_ONLY)  # type: ignore[arg-type]
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidCredentials("invalid token") from None
    if not isinstance(claims, dict):
        raise InvalidCredentials("malformed token")

    exp = _number(claims, "exp")
    if exp is None:
        raise InvalidCredentials("token has no expiry")
    # Stated positively so NaN-like surprises fail the comparison and reject.
    if not (now < exp + policy.leeway):
        raise InvalidCredentials("token expired")
    nbf = _number(claims, "nbf")
    if nbf is not None and not (nbf <= now + policy.leeway):
        raise InvalidCredentials("token not yet valid")

    if claims.get("iss") != policy.issuer:
        raise InvalidCredentials("token issuer not accepted")
    audience = claims.get(policy.audience_claim)
    values = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(v, str) and v in policy.audiences for v in values):
        raise InvalidCredentials("token audience not accepted")
    token_use = claims.get("token_use")
    if token_use is not None and token_use != "access":
        raise InvalidCredentials("not an access token")
    return claims


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    scopes: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            # API Gateway stringifies list claims as "[a b]".
            scopes.update(value.strip("[]").split())
        elif isinstance(value, list):
            scopes.update(v for v in value if isinstance(v, str))
    return frozenset(scopes)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject = claims.get("sub") or claims.get("client_id")
    if not isinstance(subject, str) or not subject:
        raise InvalidCredentials("token has no subject")
    name = claims.get("username") or claims.get("cognito:username") or claims.get("client_id")
    return Principal(
        id=subject,
        kind="oauth",
        name=name if isinstance(name, str) else None,
        scopes=scopes_of(claims),
    )

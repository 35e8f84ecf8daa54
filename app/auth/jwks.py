"""JSON Web Key Sets: fetch over HTTPS and parse into verification keys.

Only keys usable with the accepted algorithms are kept: RSA (>= 2048 bits)
for RS256, EC P-256 for ES256. Each key is pinned to exactly one algorithm,
so a token cannot pick how its signature is checked (RFC 8725 3.1). A JWK
carrying private material is skipped: a JWKS that leaks a private key is
misconfigured and must not be trusted as is.

Caching and the unknown-kid rate limit are the `RefreshingCache`'s job; this
module does one fetch per call.
"""

from __future__ import annotations

import functools
import json
import logging
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
MAX_JWKS_BYTES = 256 * 1024
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    alg: str
    #: A `cryptography` public key object.
    key: Any


def _expected_alg(jwk: Mapping[str, Any]) -> str | None:
    kty = jwk.get("kty")
    if kty == "RSA":
        return "RS256"
    if kty == "EC" and jwk.get("crv") == "P-256":
        return "ES256"
    return None


def parse_jwks(raw: bytes | str) -> dict[str, SigningKey]:
    """kid -> key for every usable signing key. Raises ValueError if not a JWKS."""
    # Imported here, not at module level: PyJWT and cryptography cost ~50 ms of cold
    # start, and only an OAuth configuration ever parses a JWKS.
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("JWKS is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("JWKS has no keys array")
    keys: dict[str, SigningKey] = {}
    for jwk in data["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        alg = _expected_alg(jwk)
        if (
            not isinstance(kid, str)
            or not kid
            or alg is None
            or jwk.get("alg", alg) != alg
            or jwk.get("use", "sig") != "sig"
            or any(member in jwk for member in _PRIVATE_MEMBERS)
        ):
            logger.debug("JWKS key skipped", extra={"kid": kid if isinstance(kid, str) else None})
            continue
        try:
            public_key = jwt.PyJWK(jwk, algorithm=alg).key
        except (jwt.PyJWKError, ValueError, TypeError):
            logger.debug("JWKS key unparseable", extra={"kid": kid})
            continue
        if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
            logger.debug("JWKS key too small", extra={"kid": kid})
            continue
        keys[kid] = SigningKey(kid=kid, alg=alg, key=public_key)
    if not keys:
        # Treated as a failed fetch, so the cache keeps the last good key set
        # instead of swapping in one that refuses every token.
        raise ValueError("JWKS has no usable signing key")
    return keys


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A JWKS URL that redirects (possibly to plain HTTP) is refused, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    # Built at the first fetch, not at import: its HTTPS handler creates an SSL context and loads
    # the CA bundle (~18 ms, a few MB), and only an OAuth configuration ever fetches a JWKS.
    return urllib.request.build_opener(_NoRedirect())


def fetch_url(url: str, timeout: float, max_bytes: int = MAX_JWKS_BYTES) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "mcp-lambda-auth"})
    with _opener().open(request, timeout=timeout) as response:
        if response.status != 200:
            raise ValueError("JWKS fetch did not answer 200")
        body: bytes = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ValueError("JWKS too large")
    return body


class JwksLoader:
    """The `RefreshingCache` loader: one HTTPS fetch, parsed."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self._timeout = timeout

    def __call__(self) -> dict[str, SigningKey]:
        return parse_jwks(fetch_url(self.url, self._timeout))

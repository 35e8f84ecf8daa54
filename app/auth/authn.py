"""Deciding who is calling: Authorization header -> Principal, or an AuthError.

Hot path (API key, warm cache): one regex over the header value, one sha256,
one dict lookup, one `compare_digest`, a clock read. No I/O, no allocation
beyond the digest, no log formatting. Slow paths (first load, TTL expiry, a
rate-limited forced refresh on an unknown key or kid) run the blocking fetch
in a worker thread so an async server keeps serving meanwhile.

Failure mapping: no header -> MissingCredentials (401); anything presented
and refused -> InvalidCredentials (401, error="invalid_token"); missing
scopes -> InsufficientScope (403); secret store / JWKS unreachable with
nothing cached -> SecretUnavailable (503). Nothing here falls open.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

import anyio.to_thread

from app.auth.cache import Clock, RefreshingCache
from app.auth.config import AuthSettings
from app.auth.jwks import JwksLoader, SigningKey
from app.auth.jwt_verify import JwtPolicy, principal_from_claims, read_header, verify_token
from app.auth.keyring import KEY_PREFIX_BYTES, KeyRing, key_id_of, parse_key_ring
from app.auth.ssm import FileLoader, SSMLoader, make_ssm_provider
from app.transport.config import Settings
from app.core.errors import InsufficientScope, InvalidCredentials, MissingCredentials
from app.core.principal import LOCAL_DEVELOPER, Principal

logger = logging.getLogger(__name__)

#: Longest credential considered. Cognito tokens are ~1-4 kB; anything far
#: larger is refused before any parsing (a 100 kB header costs one len()).
MAX_CREDENTIAL_BYTES = 8192
# RFC 6750 b64token: also refuses spaces, commas (API Gateway joins duplicate
# headers with ","), control characters and every non-ASCII byte.
_B64TOKEN = re.compile(rb"[A-Za-z0-9\-._~+/]+=*")

DEV_PRINCIPAL = Principal(id="local-dev-key", kind="local", name="local development key")


class Authenticator(Protocol):
    #: Every cache holding a secret or signing key, handed to SnapStart.
    @property
    def secret_caches(self) -> tuple[RefreshingCache[Any], ...]: ...

    #: The API key ring cache, when API keys come from a ring (SnapStart lends it a throwaway key).
    key_ring: RefreshingCache[KeyRing] | None

    def authenticate_cached(self, authorization: bytes | None) -> Principal | None:
        """The synchronous warm path: the caller from what is already cached, or None (then `authenticate` decides)."""
        ...

    async def authenticate(self, authorization: bytes | None, scope: Mapping[str, Any]) -> Principal:
        """The caller for this request, or raise an `app.core.errors.AuthError` / `SecretUnavailable`."""
        ...


def parse_bearer(value: bytes | None) -> bytes:
    """The token of a `Bearer` Authorization header value (raw bytes)."""
    if value is None:
        raise MissingCredentials("missing credentials")
    if len(value) > MAX_CREDENTIAL_BYTES + 64:
        raise InvalidCredentials("credentials too large")
    value = value.strip(b" \t")
    if value[:7].lower() != b"bearer " and value.lower() != b"bearer":
        raise InvalidCredentials("unsupported authorization scheme")
    token = value[7:].lstrip(b" ")
    if not token:
        raise InvalidCredentials("empty token")
    if len(token) > MAX_CREDENTIAL_BYTES or not _B64TOKEN.fullmatch(token):
        raise InvalidCredentials("malformed token")
    return token


def _authorizer_claims(scope: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Claims an API Gateway HTTP API JWT authorizer put in the Lambda event (via Mangum)."""
    event = scope.get("aws.event")
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    return claims if isinstance(claims, Mapping) else None


#: Verified tokens remembered per process (by sha256, never the token itself).
MAX_VERIFIED_TOKENS = 10_000


class JwtAuthenticator:
    """Access tokens against a cached JWKS (unknown kid: rate-limited refetch).

    A signature check costs ~90 us (RS256) to ~130 us (ES256); an agent sends
    the same token for many calls, so a verified token is remembered by its
    sha256 until `exp` (+ leeway) or `max_age`, whichever is first. `max_age`
    (the secret TTL) bounds how long a key the issuer withdrew keeps working,
    like a revoked API key.
    """

    def __init__(
        self,
        jwks: RefreshingCache[dict[str, SigningKey]],
        policy: JwtPolicy,
        clock: Clock = time.time,
        max_age: float = 300.0,
    ):
        self.jwks = jwks
        self._policy = policy
        self._clock = clock
        self._max_age = max_age
        self._verified: dict[bytes, tuple[float, Principal]] = {}

    async def verify(self, token: bytes) -> Principal:
        digest = hashlib.sha256(token).digest()
        hit = self._verified.get(digest)
        if hit is not None:
            if self._clock() < hit[0]:
                return hit[1]
            self._verified.pop(digest, None)
        principal, valid_until = await self._verify_fully(token)
        if len(self._verified) >= MAX_VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[digest] = (valid_until, principal)
        return principal

    async def _verify_fully(self, token: bytes) -> tuple[Principal, float]:
        # Header first: alg none / HS256 / no kid never cost a JWKS fetch.
        alg, kid = read_header(token)
        keys = self.jwks.peek()
        if keys is None:
            keys = await anyio.to_thread.run_sync(self.jwks.get)
        key = keys.get(kid)
        if key is None and self.jwks.can_force():
            keys = await anyio.to_thread.run_sync(partial(self.jwks.get, force=True))
            key = keys.get(kid)
        if key is None:
            raise InvalidCredentials("unknown signing key")
        now = self._clock()
        claims = verify_token(token, alg, key, self._policy, now)
        # verify_token guarantees a numeric exp with now < exp + leeway.
        valid_until = min(float(claims["exp"]) + self._policy.leeway, now + self._max_age)
        return principal_from_claims(claims), valid_until


class CredentialAuthenticator:
    """API keys (SSM / file ring, local dev key) and/or OAuth access tokens."""

    def __init__(
        self,
        *,
        key_ring: RefreshingCache[KeyRing] | None = None,
        dev_key: str | None = None,
        dev_scopes: tuple[str, ...] = (),
        jwt_auth: JwtAuthenticator | None = None,
        required_scopes: tuple[str, ...] = (),
        trust_authorizer: bool = False,
        issuer: str | None = None,
        wall_clock: Clock = time.time,
    ) -> None:
        self.key_ring = key_ring
        self.jwt_auth = jwt_auth
        # Only the digest is kept; the plain dev key stays in AuthSettings.
        self._dev_digest = hashlib.sha256(dev_key.encode("ascii")).digest() if dev_key else None
        # Built once: the warm path returns the same object every time (cheap SDK-user lookup).
        self._dev_principal = replace(DEV_PRINCIPAL, scopes=frozenset(dev_scopes))
        self._required = frozenset(required_scopes)
        self._required_sorted = tuple(sorted(self._required))
        self._trust_authorizer = trust_authorizer
        self._issuer = issuer
        self._wall = wall_clock

    @property
    def secret_caches(self) -> tuple[RefreshingCache[Any], ...]:
        """Every cache holding a secret or signing key (API key ring, JWKS): SnapStart forgets and refetches them."""
        caches: list[RefreshingCache[Any]] = []
        if self.key_ring is not None:
            caches.append(self.key_ring)
        if self.jwt_auth is not None:
            caches.append(self.jwt_auth.jwks)
        return tuple(caches)

    def authenticate_cached(self, authorization: bytes | None) -> Principal | None:
        """The caller when an API key checks out against what is already cached, else None.

        Synchronous, for the warm path of every request: no coroutine, no
        await. None never means "refused": `authenticate` then decides, with
        everything it may fetch, rate-limit and report.
        """
        if (
            self._trust_authorizer
            or self._required
            or authorization is None
            or len(authorization) > MAX_CREDENTIAL_BYTES
            or authorization[:7].lower() != b"bearer "
        ):
            return None
        # No syntax check beyond the scheme: only an exact digest match is accepted
        # here, and no malformed token can match a key minted by keygen.
        token = authorization[7:].strip(b" \t")
        digest = hashlib.sha256(token).digest()
        if self._dev_digest is not None and hmac.compare_digest(digest, self._dev_digest):
            return self._dev_principal  # local development only (refused in Lambda)
        if self.key_ring is None or not token.startswith(KEY_PREFIX_BYTES):
            return None
        ring = self.key_ring.peek()
        if ring is None:
            return None
        entry, _ = ring.verify(token, digest, self._wall())
        return entry.principal if entry is not None else None

    async def authenticate(self, authorization: bytes | None, scope: Mapping[str, Any]) -> Principal:
        principal: Principal | None = None
        if self._trust_authorizer:
            claims = _authorizer_claims(scope)
            if claims is not None:
                if self._issuer is not None and claims.get("iss", self._issuer) != self._issuer:
                    raise InvalidCredentials("token issuer not accepted")
                principal = principal_from_claims(claims)
        if principal is None:
            principal = await self._verify(parse_bearer(authorization))
        if self._required and not self._required <= principal.scopes:
            logger.info(
                "caller lacks required scopes",
                extra={"principal_id": principal.id, "principal_kind": principal.kind, "reason": "insufficient_scope"},
            )
            raise InsufficientScope("insufficient scope", self._required_sorted)
        return principal

    async def _verify(self, token: bytes) -> Principal:
        is_key = token.startswith(KEY_PREFIX_BYTES)
        if self._dev_digest is not None or (is_key and self.key_ring is not None):
            digest = hashlib.sha256(token).digest()
            if self._dev_digest is not None and hmac.compare_digest(digest, self._dev_digest):
                return self._dev_principal
            if is_key and self.key_ring is not None:
                # Warm path, synchronous: a cached ring and a known key need no await.
                ring = self.key_ring.peek()
                if ring is not None:
                    entry, _ = ring.verify(token, digest, self._wall())
                    if entry is not None:
                        return entry.principal
                return await self._verify_key(token, digest)
        if self.jwt_auth is not None and token.count(b".") == 2:
            return await self.jwt_auth.verify(token)
        raise InvalidCredentials("invalid credentials")

    async def _verify_key(self, token: bytes, digest: bytes) -> Principal:
        ring_cache = self.key_ring
        assert ring_cache is not None
        ring = ring_cache.peek()
        if ring is None:
            ring = await anyio.to_thread.run_sync(ring_cache.get)
        now = self._wall()
        entry, reason = ring.verify(token, digest, now)
        if entry is None and ring_cache.can_force():
            # A key added to the ring a moment ago must work at once; the
            # cache's rate limit keeps a flood of bad keys off SSM.
            ring = await anyio.to_thread.run_sync(partial(ring_cache.get, force=True))
            entry, reason = ring.verify(token, digest, now)
        if entry is None:
            logger.info("API key refused", extra={"key_id": key_id_of(token), "reason": reason})
            raise InvalidCredentials("invalid API key")
        return entry.principal


class NoAuthenticator:
    """MCP_AUTH_MODE=none (local development only): everyone is the local developer, with the dev scopes."""

    #: No secret is cached.
    secret_caches: tuple[RefreshingCache[Any], ...] = ()
    key_ring: RefreshingCache[KeyRing] | None = None

    def __init__(self, scopes: tuple[str, ...] = ()) -> None:
        self._principal = replace(LOCAL_DEVELOPER, scopes=frozenset(scopes))

    def authenticate_cached(self, authorization: bytes | None) -> Principal | None:
        return None  # nothing cached: `authenticate` answers

    async def authenticate(self, authorization: bytes | None, scope: Mapping[str, Any]) -> Principal:
        return self._principal


def build_authenticator(
    auth: AuthSettings,
    settings: Settings,
    *,
    ssm_provider: Any = None,
    jwks_loader: Callable[[], dict[str, SigningKey]] | None = None,
    clock: Clock = time.monotonic,
    wall_clock: Clock = time.time,
) -> Authenticator:
    """Build once per process. `ssm_provider`, `jwks_loader` and clocks are test seams."""
    if auth.mode == "none":
        return NoAuthenticator(auth.dev_scopes or ())
    key_ring: RefreshingCache[KeyRing] | None = None
    if auth.api_keys_enabled:
        loader: Callable[[], KeyRing] | None = None
        label = ""
        # An entry without `scopes` holds every declared scope (see app.auth.keyring).
        parse = partial(parse_key_ring, default_scopes=auth.declared_scopes)
        if auth.api_keys_param:
            provider = ssm_provider if ssm_provider is not None else make_ssm_provider(auth.fetch_timeout_s)
            loader = SSMLoader(provider, auth.api_keys_param, parse, max_age=auth.secret_ttl_s)
            label = f"ssm:{auth.api_keys_param}"
        elif auth.api_keys_file:
            loader = FileLoader(auth.api_keys_file, parse)
            label = f"file:{auth.api_keys_file}"
        if loader is not None:
            key_ring = RefreshingCache(
                loader,
                label=label,
                ttl=auth.secret_ttl_s,
                min_interval=auth.refresh_min_interval_s,
                clock=clock,
                # MCP_AUTH_FETCH_TIMEOUT_S bounds the whole wait of a request, whatever the client's retries add.
                wait_timeout=auth.fetch_timeout_s,
            )
    jwt_auth: JwtAuthenticator | None = None
    if auth.oauth_enabled:
        assert auth.oauth_issuer is not None and auth.oauth_jwks_url is not None
        policy = JwtPolicy(
            issuer=auth.oauth_issuer,
            audiences=frozenset(auth.audiences_for(settings.path)),
            audience_claim=auth.oauth_audience_claim,
            leeway=auth.oauth_leeway_s,
        )
        jwks = RefreshingCache(
            jwks_loader or JwksLoader(auth.oauth_jwks_url, auth.fetch_timeout_s),
            label=f"jwks:{auth.oauth_jwks_url}",
            ttl=auth.oauth_jwks_ttl_s,
            min_interval=auth.refresh_min_interval_s,
            clock=clock,
            wait_timeout=auth.fetch_timeout_s,
        )
        jwt_auth = JwtAuthenticator(jwks, policy, clock=wall_clock, max_age=auth.secret_ttl_s)
    return CredentialAuthenticator(
        key_ring=key_ring,
        dev_key=auth.dev_api_key if auth.api_keys_enabled else None,
        dev_scopes=auth.dev_scopes or (),
        jwt_auth=jwt_auth,
        required_scopes=auth.required_scopes,
        trust_authorizer=auth.trust_api_gateway_authorizer,
        issuer=auth.oauth_issuer,
        wall_clock=wall_clock,
    )

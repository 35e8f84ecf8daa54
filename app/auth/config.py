"""Access-control configuration, parsed once from the environment.

Only *names* of secrets live here (SSM parameter names, a file path), with one
deliberate exception: the local development key, which exists only outside
Lambda and is kept out of `repr` so it never lands in a log line.

Mode resolution (`MCP_AUTH_MODE`, else inferred):
  * OAuth issuer and an API-key source configured -> "api_key+oauth"
  * only an OAuth issuer                            -> "oauth"
  * only an API-key source                          -> "api_key"
  * nothing, outside Lambda -> "api_key" with a random development key
    generated once per process (the local runner prints it)
  * nothing, inside Lambda  -> ConfigurationError (never start open)
"none" switches auth off and is refused inside Lambda.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, cast
from urllib.parse import urlsplit

from app.core import env as env_values
from app.core.errors import ConfigurationError

logger = logging.getLogger(__name__)

AuthMode = Literal["api_key", "oauth", "api_key+oauth", "none"]
_MODES: tuple[AuthMode, ...] = ("api_key", "oauth", "api_key+oauth", "none")
AudienceClaim = Literal["aud", "client_id"]

#: Environment variables understood by `AuthSettings.from_env` (README table source).
ENV_DOC: dict[str, str] = {
    "MCP_AUTH_MODE": "api_key | oauth | api_key+oauth | none (default: inferred from what is configured; "
    "none is local-only and refused in Lambda).",
    "MCP_API_KEYS_PARAM": "SSM SecureString name holding the API key ring JSON.",
    "MCP_API_KEYS_FILE": "Local only: path to a key ring JSON file (same format as the SSM value).",
    "MCP_DEV_API_KEY": "Local only: one plain development key accepted as is (refused in Lambda).",
    "MCP_DEV_API_KEY_SCOPES": "Local only: comma-separated scopes of the development key (and of every caller "
    "with MCP_AUTH_MODE=none); `none` for no scope (default: every scope a tool, resource or prompt declares).",
    "MCP_SECRET_TTL_S": "Cache lifetime of SSM values (key ring, requestState keys) in seconds (default 300).",
    "MCP_SECRET_REFRESH_MIN_INTERVAL_S": "Least seconds between forced refreshes (unknown key or kid) and "
    "retries after a failed fetch, per process (default 10). Also the Retry-After of a 503.",
    "MCP_AUTH_FETCH_TIMEOUT_S": "Timeout of one SSM or JWKS fetch, and the longest a request waits for one, in seconds "
    "(default 3): one attempt, no client-side retry; the cache retries after MCP_SECRET_REFRESH_MIN_INTERVAL_S.",
    "MCP_REQUIRED_SCOPES": "Comma-separated scopes every caller must hold (default none); missing -> 403.",
    "MCP_PUBLIC_URL": "External base URL (scheme://host[/prefix], without the MCP path); overrides "
    "Host/X-Forwarded-* when building the resource URL. Recommended in production.",
    "MCP_OAUTH_ISSUER": "OAuth issuer (exact `iss`), e.g. https://cognito-idp.<region>.amazonaws.com/<pool>.",
    "MCP_OAUTH_JWKS_URL": "JWKS URL (default <issuer>/.well-known/jwks.json). HTTPS required in Lambda.",
    "MCP_OAUTH_AUDIENCE": "Comma-separated accepted audience values (default MCP_PUBLIC_URL + MCP_PATH).",
    "MCP_OAUTH_AUDIENCE_CLAIM": "Claim checked against MCP_OAUTH_AUDIENCE: aud (default) or client_id "
    "(Cognito access tokens carry no aud).",
    "MCP_OAUTH_LEEWAY_S": "Clock skew allowed on exp/nbf in seconds (default 30).",
    "MCP_OAUTH_JWKS_TTL_S": "JWKS cache lifetime in seconds (default 3600).",
    "MCP_OAUTH_AUTHORIZATION_SERVERS": "Comma-separated issuers advertised in the protected resource "
    "metadata (default the issuer).",
    "MCP_OAUTH_SCOPES_SUPPORTED": "Comma-separated scopes advertised in the metadata, besides every scope a tool, "
    "resource or prompt declares (default MCP_REQUIRED_SCOPES).",
    "MCP_OAUTH_TRUST_API_GATEWAY_AUTHORIZER": "true: trust claims of an API Gateway HTTP API JWT authorizer "
    "from the Lambda event (default false: ignored).",
    "MCP_REQUEST_STATE_KEY_PARAM": "SSM SecureString name holding the requestState sealing keys.",
    "MCP_REQUEST_STATE_TTL_S": "Lifetime of a sealed requestState in seconds (default 600).",
    "MCP_REQUEST_STATE_AUDIENCE": "Audience sealed into requestState (default: the MCP server name).",
    "MCP_REQUEST_STATE_KEYS": "Local only: comma-separated requestState sealing keys, newest first.",
}

_DEV_KEY_RE = re.compile(r"[A-Za-z0-9\-._~+/]{16,512}")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# One generated development key per process, so every `from_env()` call in a
# process (runner, app factory, banner) agrees on the key that was printed.
_generated_dev_key: str | None = None
_generated_lock = threading.Lock()


def _process_dev_key() -> str:
    global _generated_dev_key
    with _generated_lock:
        if _generated_dev_key is None:
            _generated_dev_key = "mcp_dev_" + secrets.token_urlsafe(24)
        return _generated_dev_key


def _dev_scopes(env: Mapping[str, str]) -> tuple[str, ...] | None:
    if env.get("MCP_DEV_API_KEY_SCOPES") is None:
        return None
    scopes = env_values.csv(env, "MCP_DEV_API_KEY_SCOPES")
    return () if scopes == ("none",) else scopes


def _check_url(name: str, url: str, *, in_lambda: bool) -> str:
    """HTTPS only, except plain HTTP to loopback for local runs and tests."""
    parts = urlsplit(url)
    if not parts.netloc or parts.scheme not in ("https", "http"):
        raise ConfigurationError(f"{name} must be an absolute http(s) URL, got {url!r}")
    if parts.scheme == "http" and (in_lambda or parts.hostname not in _LOOPBACK_HOSTS):
        raise ConfigurationError(f"{name} must use https (plain http only to loopback, outside Lambda)")
    return url


@dataclass(frozen=True)
class AuthSettings:
    """Who may call, and where the secrets that decide it live. Immutable."""

    mode: AuthMode = "api_key"
    in_lambda: bool = False
    # API keys
    api_keys_param: str | None = None
    api_keys_file: str | None = None
    #: Plain local development key. Local only; excluded from repr on purpose.
    dev_api_key: str | None = field(default=None, repr=False)
    dev_api_key_generated: bool = False
    #: Scopes of the development key / the auth-disabled caller; None: every declared scope
    #: (`with_declared_scopes` fills them in at start-up).
    dev_scopes: tuple[str, ...] | None = None
    #: Every scope a tool, resource or prompt declares (`with_declared_scopes`): what a key ring
    #: entry without `scopes` holds.
    declared_scopes: tuple[str, ...] = ()
    # Secret cache policy (SSM values, and the JWKS refetch rate limit)
    secret_ttl_s: float = 300.0
    refresh_min_interval_s: float = 10.0
    fetch_timeout_s: float = 3.0
    required_scopes: tuple[str, ...] = ()
    public_url: str | None = None
    # OAuth resource-server mode
    oauth_issuer: str | None = None
    oauth_jwks_url: str | None = None
    oauth_audiences: tuple[str, ...] = ()
    oauth_audience_claim: AudienceClaim = "aud"
    oauth_leeway_s: float = 30.0
    oauth_jwks_ttl_s: float = 3600.0
    oauth_authorization_servers: tuple[str, ...] = ()
    oauth_scopes_supported: tuple[str, ...] = ()
    trust_api_gateway_authorizer: bool = False
    # requestState sealing keys (2026-07-28 input_required)
    request_state_key_param: str | None = None
    request_state_ttl_s: float = 600.0
    request_state_audience: str | None = None
    #: Local only: keys that seal `requestState`, newest first. Empty (and no
    #: parameter) means a process-local key: fine on one process, refused on Lambda.
    request_state_keys: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def api_keys_enabled(self) -> bool:
        return self.mode in ("api_key", "api_key+oauth")

    @property
    def oauth_enabled(self) -> bool:
        return self.mode in ("oauth", "api_key+oauth")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        """Parse and validate; raises ConfigurationError for anything unsafe or malformed."""
        env = os.environ if environ is None else environ
        in_lambda = env_values.on_lambda(env)

        api_keys_param = env_values.text(env, "MCP_API_KEYS_PARAM")
        api_keys_file = env_values.text(env, "MCP_API_KEYS_FILE")
        dev_api_key = env_values.text(env, "MCP_DEV_API_KEY")
        issuer = env_values.text(env, "MCP_OAUTH_ISSUER")

        if in_lambda and (api_keys_file or dev_api_key):
            # Local key sources would make rotation a deploy and a plain key a
            # secret in the function configuration: production uses SSM only.
            raise ConfigurationError(
                "MCP_API_KEYS_FILE and MCP_DEV_API_KEY are for local runs only; use MCP_API_KEYS_PARAM in Lambda"
            )
        if api_keys_param and api_keys_file:
            raise ConfigurationError("set one of MCP_API_KEYS_PARAM and MCP_API_KEYS_FILE, not both")
        if dev_api_key is not None and not _DEV_KEY_RE.fullmatch(dev_api_key):
            # A key that cannot travel as an RFC 6750 b64token could never match.
            raise ConfigurationError("MCP_DEV_API_KEY must be 16-512 characters of A-Z a-z 0-9 - . _ ~ + /")

        has_key_source = bool(api_keys_param or api_keys_file or dev_api_key)
        raw_mode = env_values.text(env, "MCP_AUTH_MODE")
        mode: AuthMode
        if raw_mode is None:
            if issuer and has_key_source:
                mode = "api_key+oauth"
            elif issuer:
                mode = "oauth"
            elif has_key_source or not in_lambda:
                mode = "api_key"
            else:
                raise ConfigurationError(
                    "no authentication configured: set MCP_API_KEYS_PARAM and/or MCP_OAUTH_ISSUER "
                    "(Lambda never starts without access control)"
                )
        else:
            if raw_mode.lower() not in _MODES:
                raise ConfigurationError(f"MCP_AUTH_MODE must be one of {', '.join(_MODES)}, got {raw_mode!r}")
            mode = cast("AuthMode", raw_mode.lower())

        if mode == "none" and in_lambda:
            raise ConfigurationError("MCP_AUTH_MODE=none is refused inside Lambda: it would serve everyone")

        generated = False
        if mode in ("api_key", "api_key+oauth") and not has_key_source:
            if in_lambda:
                raise ConfigurationError(f"MCP_AUTH_MODE={mode} needs MCP_API_KEYS_PARAM in Lambda")
            dev_api_key, generated = _process_dev_key(), True

        public_url = env_values.text(env, "MCP_PUBLIC_URL")
        if public_url is not None:
            public_url = _check_url("MCP_PUBLIC_URL", public_url, in_lambda=False).rstrip("/")

        required_scopes = env_values.csv(env, "MCP_REQUIRED_SCOPES")
        jwks_url: str | None = None
        audience_claim = (env_values.text(env, "MCP_OAUTH_AUDIENCE_CLAIM") or "aud").lower()
        if audience_claim not in ("aud", "client_id"):
            raise ConfigurationError(f"MCP_OAUTH_AUDIENCE_CLAIM must be aud or client_id, got {audience_claim!r}")
        if mode in ("oauth", "api_key+oauth"):
            if not issuer:
                raise ConfigurationError(f"MCP_AUTH_MODE={mode} needs MCP_OAUTH_ISSUER")
            _check_url("MCP_OAUTH_ISSUER", issuer, in_lambda=in_lambda)
            jwks_url = env_values.text(env, "MCP_OAUTH_JWKS_URL") or issuer.rstrip("/") + "/.well-known/jwks.json"
            _check_url("MCP_OAUTH_JWKS_URL", jwks_url, in_lambda=in_lambda)

        settings = cls(
            mode=mode,
            in_lambda=in_lambda,
            api_keys_param=api_keys_param,
            api_keys_file=api_keys_file,
            dev_api_key=dev_api_key,
            dev_api_key_generated=generated,
            dev_scopes=_dev_scopes(env),
            secret_ttl_s=env_values.positive_float(env, "MCP_SECRET_TTL_S", 300.0),
            refresh_min_interval_s=env_values.positive_float(env, "MCP_SECRET_REFRESH_MIN_INTERVAL_S", 10.0, allow_zero=True),
            fetch_timeout_s=env_values.positive_float(env, "MCP_AUTH_FETCH_TIMEOUT_S", 3.0),
            required_scopes=required_scopes,
            public_url=public_url,
            oauth_issuer=issuer,
            oauth_jwks_url=jwks_url,
            oauth_audiences=env_values.csv(env, "MCP_OAUTH_AUDIENCE"),
            oauth_audience_claim=cast("AudienceClaim", audience_claim),
            oauth_leeway_s=env_values.positive_float(env, "MCP_OAUTH_LEEWAY_S", 30.0, allow_zero=True),
            oauth_jwks_ttl_s=env_values.positive_float(env, "MCP_OAUTH_JWKS_TTL_S", 3600.0),
            oauth_authorization_servers=env_values.csv(env, "MCP_OAUTH_AUTHORIZATION_SERVERS") or ((issuer,) if issuer else ()),
            oauth_scopes_supported=env_values.csv(env, "MCP_OAUTH_SCOPES_SUPPORTED") or required_scopes,
            trust_api_gateway_authorizer=env_values.flag(env, "MCP_OAUTH_TRUST_API_GATEWAY_AUTHORIZER"),
            request_state_key_param=env_values.text(env, "MCP_REQUEST_STATE_KEY_PARAM"),
            request_state_ttl_s=env_values.positive_float(env, "MCP_REQUEST_STATE_TTL_S", 600.0),
            request_state_audience=env_values.text(env, "MCP_REQUEST_STATE_AUDIENCE"),
            request_state_keys=tuple(k.encode() for k in env_values.csv(env, "MCP_REQUEST_STATE_KEYS")),
        )
        if settings.trust_api_gateway_authorizer and not settings.oauth_enabled:
            raise ConfigurationError("MCP_OAUTH_TRUST_API_GATEWAY_AUTHORIZER needs an oauth mode")
        return settings

    def with_declared_scopes(self, declared: tuple[str, ...]) -> AuthSettings:
        """These settings once the server's declared scopes (`app.scopes`) are known, at start-up.

        The metadata's `scopes_supported` lists them after the configured ones,
        the development key (or everyone, with auth off) holds them all
        unless MCP_DEV_API_KEY_SCOPES says otherwise, and so does a key ring
        entry without `scopes`.
        """
        supported = tuple(dict.fromkeys((*self.oauth_scopes_supported, *declared)))
        dev = self.dev_scopes if self.dev_scopes is not None else tuple(declared)
        return replace(self, oauth_scopes_supported=supported, dev_scopes=dev, declared_scopes=tuple(declared))

    def audiences_for(self, mcp_path: str) -> tuple[str, ...]:
        """Accepted token audiences: configured, else the public resource URL.

        Never derived from request headers: a Host-derived audience would let
        a token minted for another resource in through a forged Host header.
        """
        if self.oauth_audiences:
            return self.oauth_audiences
        if self.public_url:
            return (self.public_url + mcp_path,)
        raise ConfigurationError("OAuth mode needs MCP_OAUTH_AUDIENCE (or MCP_PUBLIC_URL to derive it)")

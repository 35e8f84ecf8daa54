"""The access-control ASGI layer and `protect()`, the one entry point the transport calls.

    protect(app) = CORSMiddleware( AccessControl( app ) )

CORS is outermost so that 401/403/503 answers carry CORS headers too (a
browser can only read a response, and its WWW-Authenticate, when they are
there) and so that preflights are answered without credentials.

`AccessControl` is pure ASGI (no BaseHTTPMiddleware: it buffers and adds a
task per request). It authenticates every HTTP request that reaches a
private route: not only the MCP path, so a route added later is never
public by accident. Routing comes first (`app.transport.routes`): a path no
route serves (404), a method no route takes (405) and a `PublicRoute`
(health, the protected-resource metadata of `app.auth.metadata`, the
endpoint's 405 for GET/DELETE/OPTIONS) need no credentials, so
clients never read a 401 there as "start OAuth".
Preflights never reach it (CORSMiddleware answers them). WebSocket scopes
are closed: this server has none, and an unauthenticated one must not pass.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.authn import Authenticator, build_authenticator
from app.auth.challenge import Challenger
from app.auth.config import AuthSettings
from app.transport.config import Settings
from app.transport.origin import OriginPolicy
from app.transport.routes import app_routes, needs_credentials
from app.core.env import process_on_lambda
from app.core.errors import UNAVAILABLE_CODE, AuthError, ConfigurationError, InvalidCredentials, SecretUnavailable
from app.core.principal import Principal, bind_principal, unbind_principal

logger = logging.getLogger(__name__)

#: A bug in access control itself: the standard internal error (refusal codes live in app.core.errors).
INTERNAL_ERROR_CODE = -32603

#: What a preflight advertises is what is served: the MCP endpoint answers POST (GET and DELETE are always
#: 405: no standalone SSE stream, no sessions), the discovery documents GET/HEAD. Advertising more would let
#: a page send a request whose only answer is 405.
CORS_METHODS = ("POST", "OPTIONS")
METADATA_CORS_METHODS = ("GET", "HEAD", "OPTIONS")
METADATA_PREFIX = "/.well-known/"
#: Headers a browser MCP client sends. Listed for documentation: "*" is what
#: takes effect, because `Mcp-Param-<Name>` cannot be enumerated and
#: CORSMiddleware has no prefix match; with "*" it mirrors the preflight's
#: Access-Control-Request-Headers (Authorization included, which a literal
#: "*" response would not cover). Origins stay restricted, which is what
#: CORS protects; the headers a permitted page may send are not a secret.
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "MCP-Protocol-Version",
    "Mcp-Method",
    "Mcp-Name",
    "Mcp-Session-Id",
    "Last-Event-ID",
    "Mcp-Param-*",
    "*",
)
CORS_EXPOSE_HEADERS = ("Mcp-Session-Id", "MCP-Protocol-Version", "WWW-Authenticate", "Retry-After")

_MAX_SDK_USERS = 4096


#: A refused API key, as the user reads it. Not the word "Unauthorized": mcp-remote matches that in
#: any error's text and starts an OAuth login that never ends (mcp-remote 0.15.1, connectToRemoteServer).
async def _send_json(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _rpc_error(code: int, message: str) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}, separators=(",", ":")
    ).encode()


class AccessControl:
    def __init__(self, app: ASGIApp, authenticator: Authenticator, settings: Settings, auth: AuthSettings) -> None:
        self.app = app
        self.authenticator = authenticator
        self._issuer = auth.oauth_issuer
        self._challenger = Challenger.build(settings, auth)
        self._retry_after = str(max(1, math.ceil(auth.refresh_min_interval_s))).encode()
        # principal -> SDK user, so the SDK's access-token contextvar costs a
        # dict lookup per request (bounded: cleared when full).
        self._sdk_users: dict[int, tuple[Principal, AuthenticatedUser]] = {}
        # The authenticator's synchronous warm path (API keys against a cached ring; None: go async).
        self._cached = authenticator.authenticate_cached
        # Routing before credentials: what no route serves (404), a method no route
        # takes (405) and public routes (health, the endpoint's 405) need no key.
        # Unknown to an app without routes: then every request is authenticated.
        self._routes = app_routes(app)
        self._mcp_posts = frozenset({settings.path.rstrip("/") or "/", settings.path.rstrip("/") + "/"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)  # lifespan
            return
        if self._routes is not None and not (scope["method"] == "POST" and scope["path"] in self._mcp_posts):
            if not needs_credentials(self._routes, scope):
                await self.app(scope, receive, send)  # 404, 405 or a public route: nothing private runs
                return

        # Raw header pairs, so a duplicated Authorization header is visible.
        authorization: bytes | None = None
        count = 0
        for name, value in scope["headers"]:
            if len(name) == 13 and name.lower() == b"authorization":
                authorization = value
                count += 1
        cached = self._cached(authorization) if count == 1 else None
        try:
            if count > 1:
                raise InvalidCredentials("multiple Authorization headers")
            principal = cached if cached is not None else await self.authenticator.authenticate(authorization, scope)
        except AuthError as exc:
            await self._deny(scope, send, exc, presented=authorization is not None)
            return
        except SecretUnavailable:
            # Not logged per request: the secret cache logs the outage once (app.core.outage.OutageLog),
            # counting every request it refused.
            await _send_json(
                send,
                503,
                _rpc_error(UNAVAILABLE_CODE, "Service unavailable: credentials cannot be checked right now"),
                [(b"retry-after", self._retry_after)],
            )
            return
        except Exception as exc:  # fail closed on any bug: never fall through to the app
            logger.error("authentication error; request refused", extra={"error_type": type(exc).__name__})
            await _send_json(send, 500, _rpc_error(INTERNAL_ERROR_CODE, "Internal error"), [])
            return

        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("caller authenticated", extra={"principal_id": principal.id, "principal_kind": principal.kind})
        # Keyed by identity: a ring load builds each Principal once, and hashing
        # a dataclass on every request costs more than the lookup.
        known = self._sdk_users.get(id(principal))
        user = known[1] if known is not None and known[0] is principal else self._sdk_user(principal)
        # Plain set/reset rather than context managers: this runs on every request.
        principal_token = bind_principal(principal)
        user_token = auth_context_var.set(user)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(user_token)
            unbind_principal(principal_token)

    def _sdk_user(self, principal: Principal) -> AuthenticatedUser:
        """The SDK's view of the caller, so `requestState` is bound to it.

        `principal_components` -> (client_id, iss, sub). The credential itself
        is deliberately not passed (`token=""`): nothing downstream needs it,
        and token passthrough is forbidden by the MCP authorization spec.
        """
        issuer = self._issuer if principal.kind == "oauth" else f"urn:mcp:{principal.kind}"
        user = AuthenticatedUser(
            AccessToken(
                token="",
                client_id=f"{principal.kind}:{principal.id}",
                scopes=sorted(principal.scopes),
                subject=principal.id,
                claims={"iss": issuer},
            )
        )
        if len(self._sdk_users) >= _MAX_SDK_USERS:
            self._sdk_users.clear()
        self._sdk_users[id(principal)] = (principal, user)  # the principal is kept alive: its id stays its own
        return user

    async def _deny(self, scope: Scope, send: Send, exc: AuthError, *, presented: bool) -> None:
        answer = self._challenger.answer(scope, exc, presented=presented)  # how it reads: app.auth.challenge
        # No path or header values: a client could have put a credential in either.
        logger.info("request refused", extra={"status": answer.status, "reason": exc.reason})
        await _send_json(send, answer.status, _rpc_error(exc.code, answer.message), list(answer.headers))


class _PolicyCORS(CORSMiddleware):
    """CORS answered for exactly the origins the endpoint lets POST (`OriginPolicy`, one source of truth).

    Configured origins, and loopback pages when the server runs on loopback
    (`make run`): the Inspector's web UI on http://localhost:6274 may preflight
    as it may POST. Preflights get no credentials check, and every answer
    (401, 403, 405, 413...) carries the CORS headers, so a page can read it.
    """

    def __init__(self, app: ASGIApp, policy: OriginPolicy, *, metadata: bool = False, **options: Any) -> None:
        super().__init__(app, allow_origins=tuple(policy.allowed_origins), **options)
        self._policy = policy
        # The discovery documents are served by GET, so their preflights advertise GET (one twin, built once).
        self._metadata = (
            None if metadata else _PolicyCORS(app, policy, metadata=True, **{**options, "allow_methods": METADATA_CORS_METHODS})
        )

    def is_allowed_origin(self, origin: str) -> bool:
        return self._policy.allows_cross_origin(origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._metadata is not None and scope["type"] == "http" and scope["path"].startswith(METADATA_PREFIX):
            await self._metadata(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def protect(
    app: ASGIApp,
    settings: Settings,
    auth: AuthSettings,
    *,
    authenticator: Authenticator | None = None,
) -> ASGIApp:
    """Wrap the MCP ASGI app: CORS(AccessControl(app)). Call once per process, at start.

    `authenticator` is a test seam; by default one is built from `auth`
    (SSM provider, JWKS cache) here, once, never per request.
    """
    if auth.mode == "none":
        if auth.in_lambda or process_on_lambda():
            raise ConfigurationError("MCP_AUTH_MODE=none is refused inside Lambda")
        logger.warning(
            "AUTHENTICATION IS DISABLED (MCP_AUTH_MODE=none): every caller is the local developer. "
            "Local development only.",
            extra={"auth_mode": "none"},
        )
    elif auth.dev_api_key is not None:
        if auth.in_lambda or process_on_lambda():
            raise ConfigurationError("a development API key is refused inside Lambda")
        logger.warning(
            "a local development API key is accepted (not for production)",
            extra={"auth_mode": auth.mode, "generated": auth.dev_api_key_generated},
        )
    if authenticator is None:
        authenticator = build_authenticator(auth, settings)
    logger.info("access control enabled", extra={"auth_mode": auth.mode})
    guarded = AccessControl(app, authenticator, settings, auth)
    policy = OriginPolicy.build(settings.allowed_origins, settings.allowed_hosts)
    if not policy.cross_origin:
        # No page of another origin may call, so there is no CORS to answer:
        # the endpoint refuses foreign Origins (403) and same-origin pages need
        # no CORS. Skipping the middleware saves ~8 us on every request.
        return guarded
    return _PolicyCORS(
        guarded,
        policy,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        allow_credentials=False,
        max_age=600,
    )

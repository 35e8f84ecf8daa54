"""Composition root: the product, built once per process from the environment.

`handler.py` (Lambda) and `app.dev.local` (`make run`) both start here, so the
deployed function and the local server are the same program with different
configuration: secrets and the item table from SSM and DynamoDB on Lambda,
a development key and an SQLite file locally. Observability (logs, metrics,
traces) and the SnapStart hooks are attached here too, so nothing below knows
about them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

from mcp.server.mcpserver import MCPServer, RequestStateSecurity
from starlette.types import ASGIApp

from app.transport.asgi import create_asgi_app
from app.transport.sdk import install_middleware, lowlevel_server
from app.auth import AuthSettings, build_request_state_security, protect
from app.auth.authn import build_authenticator, priming_credential
from app.auth.challenge import Challenger
from app.auth.ssm import make_ssm_provider
from app.auth.tool_scopes import ScopeGuard
from app import env as env_values
from app import scopes
from app.transport.config import Settings
from app.errors import ConfigurationError
from app.items.config import ItemStoreSettings
from app.items.factory import build_item_service, build_item_store, make_dynamodb_client
from app.transport.lambda_entry import LambdaHandler, create_lambda_handler
from app.observability import Observability, ObservabilitySettings, ObservedHandler
from app.server import SERVER_NAME, build_server
from app.snapstart import DynamoTable, SnapStartHooks, register, unprotected_handler

logger = logging.getLogger(__name__)

#: Derivation label for item-cursor keys taken from the requestState key ring.
CURSOR_KEY_LABEL = b"mcp-lambda/items-cursor/v1"

#: Tools without side effects, safe to call while priming a SnapStart snapshot.
PRIMING_TOOL_CALLS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("echo", {"text": "snapstart"}),
    ("add", {"a": 2, "b": 3}),
)


@dataclass(frozen=True)
class LambdaBuild:
    """The Lambda handler and the SnapStart hooks built with it."""

    handler: ObservedHandler
    snapstart: SnapStartHooks
    observability: Observability


@dataclass(frozen=True)
class Product:
    """Everything built at start-up: configuration and the server definition."""

    settings: Settings
    auth: AuthSettings
    server: MCPServer[Any]
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    request_state: RequestStateSecurity | None = None
    dynamodb: DynamoTable | None = None
    #: Where the app's logs go (tests); default stdout on Lambda, stderr elsewhere.
    log_stream: IO[str] | None = field(default=None, repr=False, compare=False)

    def asgi_app(self) -> ASGIApp:
        """The protected ASGI app (`make run`): logs, no metrics or traces (no invocation to flush them)."""
        self._observe(replace(self.observability, metrics=False, tracing=False), terminal=True)
        return protect(create_asgi_app(self.server, self.settings), self.settings, self.auth)

    def stdio_server(self) -> MCPServer[Any]:
        """The server for a stdio runner (`make stdio`): logs on stderr (stdout is the protocol), no metrics or traces."""
        self._observe(replace(self.observability, metrics=False, tracing=False), terminal=True)
        return self.server

    def lambda_handler(self) -> LambdaHandler:
        """The protected, observed Lambda handler (`handler.handler`); registers the SnapStart hooks on Lambda."""
        build = self.lambda_build()
        if self.observability.on_lambda:
            register(build.snapstart)
        return build.handler

    def lambda_build(self) -> LambdaBuild:
        """The handler and its SnapStart hooks, unregistered (tests call the hooks themselves)."""
        observability = self._observe(self.observability)  # first: start-up lines are formatted like the rest
        authenticator = build_authenticator(self.auth, self.settings)
        below_auth: list[ASGIApp] = []

        def guard(app: ASGIApp) -> ASGIApp:
            below_auth.append(app)
            return protect(app, self.settings, self.auth, authenticator=authenticator)

        raw = create_lambda_handler(self.server, self.settings, wrap=guard)
        observed = observability.wrap(raw)

        def primed() -> None:
            observed.cold = True  # priming is not an invocation: the first real one is still the cold start

        hooks = SnapStartHooks(
            settings=self.settings,
            handler=observed,
            unprotected=unprotected_handler(below_auth[0], self.settings),
            secret_caches=_secret_caches(authenticator, self.request_state),
            ssm_provider=self._ssm_provider(),
            dynamodb=self.dynamodb,
            tool_calls=PRIMING_TOOL_CALLS,
            unobserved=observability.unobserved,
            credential=lambda: priming_credential(authenticator),
            after_priming=primed,
        )
        return LambdaBuild(handler=observed, snapstart=hooks, observability=observability)

    def _observe(self, settings: ObservabilitySettings, *, terminal: bool = False) -> Observability:
        core = lowlevel_server(self.server)

        def known_tool(name: str) -> bool:
            return core.get_tool_input_schema is not None and core.get_tool_input_schema(name) is not None

        observability = Observability.build(
            settings,
            known_method=lambda method: method == "initialize" or core.get_request_handler(method) is not None,
            known_tool=known_tool,
            log_stream=self.log_stream,
            terminal=terminal,
        )
        # Outermost: it times and sees everything the others do or refuse.
        install_middleware(core, observability.middleware, outermost=True)
        return observability

    def _ssm_provider(self) -> Any:
        if self.auth.api_keys_param or self.auth.request_state_key_param:
            return make_ssm_provider(self.auth.fetch_timeout_s)  # the one the caches use (cached per process)
        return None


def _secret_caches(authenticator: Any, security: RequestStateSecurity | None) -> list[Any]:
    """Every RefreshingCache holding a secret or a signing key: API key ring, JWKS, requestState ring."""
    jwt_auth = getattr(authenticator, "jwt_auth", None)
    candidates = (
        getattr(authenticator, "key_ring", None),
        getattr(jwt_auth, "jwks", None),
        getattr(getattr(security, "codec", None), "ring", None),
    )
    return [cache for cache in candidates if cache is not None]


def _sealing(
    settings: Settings, auth: AuthSettings, lambda_env: bool
) -> tuple[RequestStateSecurity | None, Callable[[], Sequence[bytes]] | None]:
    """The requestState policy, and the cursor-key provider derived from the same secret.

    On Lambda the key must come from SSM: every instance has to open what any
    other sealed. Locally, configured keys or a process-local key will do.
    """
    security = build_request_state_security(auth)
    if security is not None:
        ring = security.codec.ring  # type: ignore[attr-defined]  # SSMRequestStateCodec's cached ring

        derived: list[Any] = [None, ()]  # (ring it was derived from, keys): derive once per ring load

        def cursor_keys() -> Sequence[bytes]:
            current = ring.peek()
            if current is None:
                current = ring.get()
            if derived[0] is not current:
                derived[:] = [current, current.derive(CURSOR_KEY_LABEL)]
            return derived[1]

        return security, cursor_keys
    if lambda_env:
        raise ConfigurationError(
            "MCP_REQUEST_STATE_KEY_PARAM is required on Lambda: every instance must seal and open "
            "requestState (and item cursors) with the same key"
        )
    if settings.request_state_keys:
        return RequestStateSecurity(keys=list(settings.request_state_keys), audience=SERVER_NAME), None
    return None, None  # the SDK's process-local key: fine for one local process


def build_product(environ: Mapping[str, str] | None = None, *, log_stream: IO[str] | None = None) -> Product:
    env = os.environ if environ is None else environ
    lambda_env = env_values.on_lambda(env)
    settings = Settings.from_env(env)
    auth = AuthSettings.from_env(env)
    observability = ObservabilitySettings.from_env(env)
    security, cursor_keys = _sealing(settings, auth, lambda_env)
    item_settings = ItemStoreSettings.from_env(env)
    dynamodb: DynamoTable | None = None
    if item_settings.backend == "dynamodb":
        assert item_settings.table_name is not None  # ItemStoreSettings guarantees it
        dynamodb = DynamoTable(make_dynamodb_client(), item_settings.table_name)
    store = build_item_store(item_settings, dynamodb_client=dynamodb.client if dynamodb else None)
    items = build_item_service(item_settings, store=store, cursor_keys=cursor_keys)
    server = build_server(request_state_security=security, item_service=items)
    # Per-item scopes (app.scopes) were declared while the server was built: advertise and enforce them.
    auth = auth.with_declared_scopes(scopes.CATALOG.all_scopes())
    install_middleware(lowlevel_server(server), ScopeGuard(scopes.CATALOG, Challenger.build(settings, auth)))
    return Product(
        settings=settings,
        auth=auth,
        server=server,
        observability=observability,
        request_state=security,
        dynamodb=dynamodb,
        log_stream=log_stream,
    )

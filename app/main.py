"""Composition root: the product, built once per process from the environment.

`handler.py` (Lambda) and `app.local` (`make run`) both start here, so the
deployed function and the local server are the same program with different
configuration: secrets and the item table from SSM and DynamoDB on Lambda,
a development key and an SQLite file locally.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import MCPServer, RequestStateSecurity
from starlette.types import ASGIApp

from app.asgi import create_asgi_app
from app.auth import AuthSettings, build_request_state_security, protect
from app.config import Settings
from app.errors import ConfigurationError
from app.items.config import ItemStoreSettings
from app.items.factory import build_item_service
from app.lambda_entry import LambdaHandler, create_lambda_handler
from app.server import SERVER_NAME, build_server

logger = logging.getLogger(__name__)

#: Derivation label for item-cursor keys taken from the requestState key ring.
CURSOR_KEY_LABEL = b"mcp-lambda/items-cursor/v1"


def on_lambda(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@dataclass(frozen=True)
class Product:
    """Everything built at start-up: configuration and the server definition."""

    settings: Settings
    auth: AuthSettings
    server: MCPServer[Any]

    def asgi_app(self) -> ASGIApp:
        """The protected ASGI app (`make run`)."""
        return protect(create_asgi_app(self.server, self.settings), self.settings, self.auth)

    def lambda_handler(self) -> LambdaHandler:
        """The protected Lambda handler (`handler.handler`)."""
        return create_lambda_handler(
            self.server, self.settings, wrap=lambda app: protect(app, self.settings, self.auth)
        )


def _sealing(settings: Settings, auth: AuthSettings, lambda_env: bool) -> tuple[RequestStateSecurity | None, Callable[[], Sequence[bytes]] | None]:
    """The requestState policy, and the cursor-key provider derived from the same secret.

    On Lambda the key must come from SSM: every instance has to open what any
    other sealed. Locally, configured keys or a process-local key will do.
    """
    security = build_request_state_security(auth)
    if security is not None:
        ring = security.codec.ring  # type: ignore[attr-defined]  # SSMRequestStateCodec's cached ring

        def cursor_keys() -> Sequence[bytes]:
            current = ring.peek()
            return (current if current is not None else ring.get()).derive(CURSOR_KEY_LABEL)

        return security, cursor_keys
    if lambda_env:
        raise ConfigurationError(
            "MCP_REQUEST_STATE_KEY_PARAM is required on Lambda: every instance must seal and open "
            "requestState (and item cursors) with the same key"
        )
    if settings.request_state_keys:
        return RequestStateSecurity(keys=list(settings.request_state_keys), audience=SERVER_NAME), None
    return None, None  # the SDK's process-local key: fine for one local process


def build_product(environ: Mapping[str, str] | None = None) -> Product:
    env = os.environ if environ is None else environ
    lambda_env = on_lambda(env)
    settings = Settings.from_env(env)
    auth = AuthSettings.from_env(env)
    security, cursor_keys = _sealing(settings, auth, lambda_env)
    items = build_item_service(ItemStoreSettings.from_env(env), cursor_keys=cursor_keys)
    server = build_server(request_state_security=security, item_service=items)
    return Product(settings=settings, auth=auth, server=server)

"""Access control: who may call this MCP server.

Public API (what the transport and the local runner use):

    AuthSettings.from_env(environ)               parse once at start
    protect(app, settings, auth) -> ASGIApp      CORS(AccessControl(app))
    metadata_routes(settings, auth)              the OAuth metadata routes, beside the endpoint
    build_request_state_security(auth)           RequestStateSecurity | None
    dev_key_banner(auth, url) -> str             local runner prints it

Names resolve lazily (PEP 562) so `keygen --request-state-key` and the pure
modules do not import starlette, boto3 or the MCP SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.lazy import lazy_attributes

if TYPE_CHECKING:
    from app.auth.config import AuthSettings
    from app.auth.dev import dev_key_banner
    from app.auth.metadata import metadata_routes
    from app.auth.middleware import protect
    from app.auth.request_state import build_request_state_security

__all__ = ["AuthSettings", "build_request_state_security", "dev_key_banner", "metadata_routes", "protect"]

_WHERE = {
    "AuthSettings": "app.auth.config",
    "protect": "app.auth.middleware",
    "metadata_routes": "app.auth.metadata",
    "build_request_state_security": "app.auth.request_state",
    "dev_key_banner": "app.auth.dev",
}


__getattr__ = lazy_attributes(__name__, _WHERE)

"""The RFC 9728 protected-resource metadata, served as a public route beside the MCP endpoint.

OAuth modes only: in API-key mode there is no authorization server to point
at, so no route exists and the paths answer 404 like any unknown path (a 401
there would make OAuth clients start a login that cannot end). The document
names the resource URL the client called (`app.auth.prm`); it is built per
request from the Host and forwarding headers unless `MCP_PUBLIC_URL` fixes it,
and then only ever reflected back to the same caller, never cached for others.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from app.auth.config import AuthSettings
from app.auth.prm import external_base_url, prm_document, prm_paths
from app.transport.config import Settings
from app.transport.routes import PublicRoute

_ALLOW: Final = ((b"allow", b"GET, HEAD"), (b"content-length", b"0"))


class ProtectedResourceMetadata:
    """ASGI app answering GET/HEAD with the metadata document, any other method 405."""

    def __init__(self, settings: Settings, auth: AuthSettings) -> None:
        self._mcp_path = settings.path
        self._api_base_path = settings.api_base_path
        self._public_url = auth.public_url
        self._authorization_servers = auth.oauth_authorization_servers
        self._scopes_supported = auth.oauth_scopes_supported
        # A Host-derived document must not be cached and served to others.
        self._cache = b"public, max-age=3600" if auth.public_url else b"no-store"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await send({"type": "http.response.start", "status": 405, "headers": list(_ALLOW)})
            await send({"type": "http.response.body", "body": b""})
            return
        base = external_base_url(scope, public_url=self._public_url, api_base_path=self._api_base_path)
        document = prm_document(
            base + self._mcp_path,
            authorization_servers=self._authorization_servers,
            scopes_supported=self._scopes_supported,
        )
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", self._cache),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def metadata_routes(settings: Settings, auth: AuthSettings) -> list[BaseRoute]:
    """The metadata's public routes (plain and path-suffixed, also under an unstripped base path); none without OAuth."""
    if not auth.oauth_enabled:
        return []
    app = ProtectedResourceMetadata(settings, auth)
    paths = set(prm_paths(settings.path))
    if settings.api_base_path:
        paths |= {settings.api_base_path + path for path in paths}
    return [PublicRoute(path, app) for path in sorted(paths)]

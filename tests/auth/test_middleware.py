"""AccessControl edge cases: fail closed on bugs, non-HTTP scopes, custom authenticators."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.config import AuthSettings
from app.auth.jwks import parse_jwks
from app.auth.middleware import AccessControl, protect
from app.transport.config import Settings
from app.core.errors import Forbidden
from app.core.principal import Principal

from .support import (
    MCP_BODY,
    FakeClock,
    JwksServer,
    Recorder,
    SigningKeyPair,
    auth_settings,
    bearer,
    build_app,
    claims,
    client,
    oauth_env,
    sign,
)

pytestmark = pytest.mark.anyio


class Raising:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def authenticate_cached(self, authorization: bytes | None) -> Principal | None:
        return None

    async def authenticate(self, authorization: bytes | None, scope: Any) -> Principal:
        raise self.exc


async def post_when_authentication_raises(exc: Exception) -> httpx.Response:
    """POST an MCP request through access control whose authenticator raises `exc`; the app must not run."""
    recorder = Recorder()
    app = protect(recorder, Settings(), AuthSettings(mode="api_key"), authenticator=Raising(exc))
    async with client(app) as http:
        response = await http.post("/mcp", json=MCP_BODY, headers=bearer("x" * 20))
    assert recorder.calls == []
    return response


async def test_a_bug_in_authentication_fails_closed_with_500() -> None:
    response = await post_when_authentication_raises(KeyError("boom"))
    assert response.status_code == 500
    assert response.json()["error"] == {"code": -32603, "message": "Internal error"}


async def test_plain_forbidden_is_403() -> None:
    response = await post_when_authentication_raises(Forbidden("not you"))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer realm="mcp", error="insufficient_scope"'
    assert response.json()["error"]["message"] == "Forbidden: not you"


async def test_websocket_is_closed_and_lifespan_passes() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    guarded = AccessControl(inner, Raising(AssertionError()), Settings(), AuthSettings(mode="api_key"))
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await guarded({"type": "websocket", "path": "/mcp", "headers": []}, None, send)  # type: ignore[arg-type]
    await guarded({"type": "lifespan"}, None, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert seen == ["lifespan"]


async def test_empty_jwks_is_a_failed_fetch(jwks_server: JwksServer, rsa_key: SigningKeyPair, clock: FakeClock) -> None:
    app, _, _ = build_app(auth_settings(**oauth_env(jwks_server.url)), clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(sign(rsa_key, claims())))).status_code == 200
        jwks_server.keys = []  # the issuer briefly serves an empty set
        clock.advance(3601)
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(sign(rsa_key, claims())))).status_code == 200
    with pytest.raises(ValueError):
        parse_jwks('{"keys": []}')


async def test_principal_is_unbound_after_the_request(clock: FakeClock) -> None:
    from app.core.principal import peek_principal

    settings = auth_settings(MCP_DEV_API_KEY="local-dev-key-0123456789")
    app, recorder, _ = build_app(settings, clock=clock)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer("local-dev-key-0123456789"))).status_code == 200
    assert recorder.calls[0]["principal"].kind == "local"
    assert peek_principal() is None

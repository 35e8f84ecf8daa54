"""CORS outside the auth layer: preflights without credentials, CORS headers on refusals."""

from __future__ import annotations

import pytest

from .support import (
    MCP_BODY, ORIGIN, FakeClock, FlakyProvider, Ssm, auth_settings, bearer, build_app, client, new_key, ring_json
)

pytestmark = pytest.mark.anyio

PARAM = "/mcp/api-keys"


@pytest.fixture
def app_and_key(ssm: Ssm, clock: FakeClock):  # type: ignore[no-untyped-def]
    key = new_key()
    ssm.put(PARAM, ring_json((key, {"scopes": ["mcp:tools"]}), (scopeless := new_key(), {})))
    app, recorder, _ = build_app(
        auth_settings(MCP_API_KEYS_PARAM=PARAM, MCP_REQUIRED_SCOPES="mcp:tools"), provider=ssm.provider, clock=clock
    )
    return app, recorder, key, scopeless


async def test_preflight_needs_no_credentials_and_mirrors_mcp_headers(app_and_key) -> None:  # type: ignore[no-untyped-def]
    app, recorder, _, _ = app_and_key
    requested = "authorization, content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-param-region"
    async with client(app) as http:
        response = await http.options(
            "/mcp",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": requested,
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-headers"] == requested
    # Only what is served: GET and DELETE on the endpoint always answer 405, so they are not advertised.
    assert response.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert recorder.calls == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_preflight_for_a_method_the_endpoint_does_not_serve_is_refused(app_and_key, method: str) -> None:  # type: ignore[no-untyped-def]
    app, recorder, _, _ = app_and_key
    async with client(app) as http:
        response = await http.options("/mcp", headers={"Origin": ORIGIN, "Access-Control-Request-Method": method})
    assert response.status_code == 400
    assert response.text == "Disallowed CORS method"
    assert response.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert recorder.calls == []


async def test_preflight_for_a_discovery_document_advertises_get(app_and_key) -> None:  # type: ignore[no-untyped-def]
    app, _, _, _ = app_and_key
    async with client(app) as http:
        response = await http.options(
            "/.well-known/oauth-protected-resource/mcp",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "mcp-protocol-version"},
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert response.headers["access-control-allow-origin"] == ORIGIN


async def test_preflight_from_unknown_origin_is_refused(app_and_key) -> None:  # type: ignore[no-untyped-def]
    app, recorder, _, _ = app_and_key
    async with client(app) as http:
        response = await http.options(
            "/mcp", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
        )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert recorder.calls == []


def _assert_cors(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"www-authenticate", "retry-after", "mcp-session-id", "mcp-protocol-version"} <= exposed


async def test_cors_headers_on_200_401_403(app_and_key) -> None:  # type: ignore[no-untyped-def]
    app, _, key, scopeless = app_and_key
    async with client(app) as http:
        ok = await http.post("/mcp", json=MCP_BODY, headers={"Origin": ORIGIN, **bearer(key.key)})
        unauthorized = await http.post("/mcp", json=MCP_BODY, headers={"Origin": ORIGIN})
        forbidden = await http.post("/mcp", json=MCP_BODY, headers={"Origin": ORIGIN, **bearer(scopeless.key)})
    assert (ok.status_code, unauthorized.status_code, forbidden.status_code) == (200, 401, 403)
    for response in (ok, unauthorized, forbidden):
        _assert_cors(response)


async def test_cors_headers_on_503(ssm: Ssm, clock: FakeClock) -> None:
    provider = FlakyProvider(ssm.provider)
    provider.down = True
    app, _, _ = build_app(auth_settings(MCP_API_KEYS_PARAM=PARAM), provider=provider, clock=clock)
    async with client(app) as http:
        response = await http.post("/mcp", json=MCP_BODY, headers={"Origin": ORIGIN, **bearer(new_key().key)})
    assert response.status_code == 503
    _assert_cors(response)


async def test_non_preflight_options_is_authenticated(app_and_key) -> None:  # type: ignore[no-untyped-def]
    app, recorder, _, _ = app_and_key
    async with client(app) as http:
        response = await http.options("/mcp", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert recorder.calls == []

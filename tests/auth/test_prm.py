"""RFC 9728 protected resource metadata behind stages, proxies and overrides."""

from __future__ import annotations

import pytest

from app.auth.prm import external_base_url
from app.transport.config import Settings

from .support import ISSUER, FakeClock, JwksServer, auth_settings, build_app, client, oauth_env

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def prm_app(url: str, clock: FakeClock, settings: Settings | None = None, **extra: str):  # type: ignore[no-untyped-def]
    env = oauth_env(url, MCP_OAUTH_SCOPES_SUPPORTED="mcp:tools,mcp:read", **extra)
    return build_app(auth_settings(**env), settings=settings, clock=clock)


@pytest.mark.parametrize("path", [WELL_KNOWN, WELL_KNOWN + "/mcp"])
async def test_document_served_without_auth(path: str, jwks_server: JwksServer, clock: FakeClock) -> None:
    app, recorder, _ = prm_app(jwks_server.url, clock)
    async with client(app) as http:
        response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "resource": "http://testserver/mcp",
        "authorization_servers": [ISSUER],
        "scopes_supported": ["mcp:tools", "mcp:read"],
        "bearer_methods_supported": ["header"],
    }
    assert recorder.calls == [] and jwks_server.hits == 0


async def test_rest_stage_prefix_from_root_path(jwks_server: JwksServer, clock: FakeClock) -> None:
    app, _, _ = prm_app(jwks_server.url, clock)
    async with client(app, root_path="/Prod", base_url="https://abc123.execute-api.eu-west-1.amazonaws.com") as http:
        doc = await http.get("/Prod" + WELL_KNOWN + "/mcp")
        challenge = await http.post("/Prod/mcp", json={})
    assert doc.json()["resource"] == "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/mcp"
    assert challenge.status_code == 401
    assert challenge.headers["www-authenticate"] == (
        'Bearer resource_metadata="https://abc123.execute-api.eu-west-1.amazonaws.com'
        '/Prod/.well-known/oauth-protected-resource/mcp"'
    )


async def test_forwarded_headers(jwks_server: JwksServer, clock: FakeClock) -> None:
    app, _, _ = prm_app(jwks_server.url, clock)
    headers = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "mcp.example.com"}
    async with client(app) as http:
        response = await http.get(WELL_KNOWN + "/mcp", headers=headers)
    assert response.json()["resource"] == "https://mcp.example.com/mcp"


async def test_custom_mcp_path_and_base_path(jwks_server: JwksServer, clock: FakeClock) -> None:
    settings = Settings(path="/agents/mcp", api_base_path="/v1")
    app, _, _ = prm_app(jwks_server.url, clock, settings=settings)
    async with client(app, base_url="https://api.example.com") as http:
        suffixed = await http.get(WELL_KNOWN + "/agents/mcp")
        also_unstripped = await http.get("/v1" + WELL_KNOWN)
        wrong_suffix = await http.get(WELL_KNOWN + "/mcp")
    assert suffixed.json()["resource"] == "https://api.example.com/v1/agents/mcp"
    assert also_unstripped.status_code == 200
    assert wrong_suffix.status_code == 401  # not a metadata path: protected like everything else


async def test_public_url_override_wins(jwks_server: JwksServer, clock: FakeClock) -> None:
    app, _, _ = prm_app(jwks_server.url, clock, MCP_PUBLIC_URL="https://mcp.example.com/tenant-a")
    async with client(app, root_path="/Prod") as http:
        response = await http.get("/Prod" + WELL_KNOWN, headers={"X-Forwarded-Host": "evil.example.com"})
    assert response.json()["resource"] == "https://mcp.example.com/tenant-a/mcp"
    assert response.headers["cache-control"] == "public, max-age=3600"


async def test_hostile_host_header_cannot_break_the_challenge(jwks_server: JwksServer, clock: FakeClock) -> None:
    app, _, _ = prm_app(jwks_server.url, clock)
    async with client(app) as http:
        response = await http.post("/mcp", json={}, headers={"X-Forwarded-Host": 'evil.com", error="x'})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
    )


async def test_other_methods_and_head(jwks_server: JwksServer, clock: FakeClock) -> None:
    app, _, _ = prm_app(jwks_server.url, clock)
    async with client(app) as http:
        post = await http.post(WELL_KNOWN)
        head = await http.head(WELL_KNOWN)
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    assert head.status_code == 200 and head.content == b""


async def test_not_served_in_api_key_only_mode(clock: FakeClock) -> None:
    app, _, _ = build_app(auth_settings(MCP_DEV_API_KEY="local-dev-key-0123456789"), clock=clock)
    async with client(app) as http:
        response = await http.get(WELL_KNOWN)
    assert response.status_code == 401
    assert "resource_metadata" not in response.headers["www-authenticate"]


def test_url_helpers() -> None:
    scope = {"path": "/Prod/mcp", "root_path": "/Prod", "headers": [(b"host", b"h.example.com")], "scheme": "http"}
    assert external_base_url(scope) == "http://h.example.com/Prod"
    assert external_base_url({**scope, "root_path": ""}, api_base_path="/v1") == "http://h.example.com/v1"
    bad_root = {**scope, "root_path": '/a"b'}
    assert external_base_url(bad_root) == "http://h.example.com"
    no_host = {"path": "/", "headers": [], "server": ("10.0.0.1", 8080)}
    assert external_base_url(no_host) == "http://10.0.0.1:8080"
    weird_proto = {"path": "/", "headers": [(b"x-forwarded-proto", b"javascript"), (b"host", b"h")]}
    assert external_base_url(weird_proto) == "https://h"


def test_rest_v1_event_prefix_when_root_path_is_empty() -> None:
    event = {"path": "/mcp", "requestContext": {"path": "/Prod/mcp", "stage": "Prod"}}
    scope = {"path": "/mcp", "root_path": "", "headers": [(b"host", b"abc.execute-api.eu-west-1.amazonaws.com")]}
    assert external_base_url({**scope, "aws.event": event}) == "http://abc.execute-api.eu-west-1.amazonaws.com/Prod"
    custom_domain = {"path": "/mcp", "requestContext": {"path": "/v1/mcp"}}
    assert (
        external_base_url({**scope, "aws.event": custom_domain}) == "http://abc.execute-api.eu-west-1.amazonaws.com/v1"
    )
    http_api = {"rawPath": "/mcp", "requestContext": {"http": {"path": "/mcp"}, "stage": "$default"}}
    assert external_base_url({**scope, "aws.event": http_api}) == "http://abc.execute-api.eu-west-1.amazonaws.com"
    # root_path set by the transport wins.
    assert external_base_url({**scope, "root_path": "/Stage", "aws.event": event}).endswith("/Stage")

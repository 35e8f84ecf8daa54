"""The HTTP edge of the product as `make run` serves it, over loopback (issue 8 items 2, 3, 4).

- 405 before 401: a method the endpoint never serves is refused as such, with or without credentials;
- preflights from the pages that may POST are answered without credentials, and every answer carries CORS;
- well-known paths and /register never answer 401 (it makes OAuth clients start a login that cannot end).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app import create_asgi_app
from app.auth import protect
from app.main import Product, build_product
from app.transport.origin import LOOPBACK_HOSTS, OriginPolicy
from tests.conftest import LiveServer, serve
from tests.conftest import local_environ as make_run_environ

from .support import ISSUER, RESOURCE, JwksServer

KEY = "dev-key-for-the-http-edge-tests"
INSPECTOR_PAGE = "http://localhost:6274"
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
WELL_KNOWN = (
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/mcp",
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/mcp",
    "/register",
)


def local_environ(tmp: Path, **extra: str) -> dict[str, str]:
    """What `make run` configures (this file's key), with a small body limit the tests can reach."""
    return make_run_environ(tmp, KEY, MCP_MAX_BODY_BYTES="2048", **extra)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    product = build_product(local_environ(tmp_path_factory.mktemp("edge")))
    with serve(product.asgi_app()) as live:
        yield live


def _base(live: LiveServer) -> str:
    return live.url.removesuffix("/mcp")


def _auth(key: str | None) -> dict[str, str]:
    return {} if key is None else {"authorization": f"Bearer {key}"}


# ------------------------------------------------------------------ item 2: 405 before 401


@pytest.mark.parametrize("key", [None, "wrong-key-wrong-key", KEY], ids=["no-credentials", "wrong-key", "right-key"])
@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS", "HEAD", "PUT"])
@pytest.mark.parametrize("path", ["/mcp", "/mcp/"])
def test_get_without_credentials_is_405_not_401(local: LiveServer, method: str, path: str, key: str | None) -> None:
    response = httpx.request(method, _base(local) + path, headers=_auth(key), timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "www-authenticate" not in response.headers
    if method != "HEAD":
        assert response.json()["error"]["code"] == -32600


def test_post_still_needs_credentials(local: LiveServer) -> None:
    with httpx.Client(timeout=10) as http:
        anonymous = http.post(local.url, json=LIST, headers=ACCEPT)
        wrong = http.post(local.url + "/", json=LIST, headers={**ACCEPT, **_auth("wrong-key-wrong-key")})
        right = http.post(local.url, json=LIST, headers={**ACCEPT, **_auth(KEY)})
    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 403, 200)  # 403: a key not accepted
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


def test_a_route_added_later_is_never_public_by_accident(tmp_path: Path) -> None:
    product: Product = build_product(local_environ(tmp_path))

    async def report(_: Request) -> PlainTextResponse:
        return PlainTextResponse("private")

    app = create_asgi_app(product.server, product.settings, extra_routes=[Route("/report", report)])
    with serve(protect(app, product.settings, product.auth)) as live:
        anonymous = httpx.get(_base(live) + "/report", timeout=10)
        wrong_method = httpx.delete(_base(live) + "/report", timeout=10)
        keyed = httpx.get(_base(live) + "/report", headers=_auth(KEY), timeout=10)
    assert anonymous.status_code == 401 and "private" not in anonymous.text
    assert wrong_method.status_code == 405  # nothing runs for a method the route does not take
    assert keyed.status_code == 200 and keyed.text == "private"


# ------------------------------------------------------------------ item 3: preflight from a local page


def _preflight(http: httpx.Client, url: str, origin: str) -> httpx.Response:
    return http.options(
        url,
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, mcp-protocol-version",
        },
    )


def test_loopback_preflight_is_answered_without_credentials(local: LiveServer) -> None:
    with httpx.Client(timeout=10) as http:
        preflight = _preflight(http, local.url, INSPECTOR_PAGE)
        slashed = _preflight(http, local.url + "/", INSPECTOR_PAGE)
    for response in (preflight, slashed):
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == INSPECTOR_PAGE
        assert "POST" in response.headers["access-control-allow-methods"]
        assert response.headers["access-control-allow-headers"] == "authorization, content-type, mcp-protocol-version"


def test_errors_to_a_loopback_page_carry_cors_headers(local: LiveServer) -> None:
    page = {"origin": INSPECTOR_PAGE}
    with httpx.Client(timeout=10) as http:
        answers = {
            200: http.post(local.url, json=LIST, headers={**ACCEPT, **page, **_auth(KEY)}),
            401: http.post(local.url, json=LIST, headers={**ACCEPT, **page}),
            405: http.get(local.url, headers=page),
            404: http.get(_base(local) + "/.well-known/oauth-authorization-server", headers=page),
            406: http.post(local.url, json=LIST, headers={**page, **_auth(KEY), "accept": "text/html"}),
            413: http.post(local.url, content=b"[" + b" " * 4096 + b"]", headers={**ACCEPT, **page, **_auth(KEY)}),
        }
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text)
        assert response.headers["access-control-allow-origin"] == INSPECTOR_PAGE, status
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "www-authenticate" in exposed, status


@pytest.mark.parametrize(
    "origin",
    [
        INSPECTOR_PAGE,
        "http://127.0.0.1:3000",
        "http://[::1]:5173",
        "https://localhost",
        "https://evil.example.com",
        "http://localhost.evil.example.com",
        "null",
    ],
)
def test_every_origin_that_may_post_may_preflight(local: LiveServer, origin: str) -> None:
    with httpx.Client(timeout=10) as http:
        post = http.post(local.url, json=LIST, headers={**ACCEPT, **_auth(KEY), "origin": origin})
        preflight = _preflight(http, local.url, origin)
    may_post = post.status_code == 200
    assert post.status_code in (200, 403)
    assert (preflight.status_code == 200) is may_post
    assert (preflight.headers.get("access-control-allow-origin") == origin) is may_post
    # Both follow the one policy the endpoint applies.
    policy = OriginPolicy.build((), LOOPBACK_HOSTS)
    assert policy.allows_cross_origin(origin) is may_post


# ------------------------------------------------------------------ item 4: well-known paths never answer 401


@pytest.mark.parametrize("key", [None, "wrong-key-wrong-key"], ids=["no-credentials", "wrong-key"])
def test_well_known_paths_never_answer_401_in_api_key_mode(local: LiveServer, key: str | None) -> None:
    with httpx.Client(timeout=10) as http:
        for path in WELL_KNOWN:
            for method in ("GET", "POST"):
                response = http.request(method, _base(local) + path, headers=_auth(key), json={})
                assert response.status_code in (404, 405), (method, path, response.status_code)
                assert "www-authenticate" not in response.headers


@pytest.fixture
def oauth_local(tmp_path: Path, jwks_server: JwksServer) -> Iterator[LiveServer]:
    environ = local_environ(
        tmp_path,
        MCP_AUTH_MODE="oauth",
        MCP_OAUTH_ISSUER=ISSUER,
        MCP_OAUTH_JWKS_URL=jwks_server.url,
        MCP_OAUTH_AUDIENCE=RESOURCE,
    )
    environ.pop("MCP_DEV_API_KEY")
    with serve(build_product(environ).asgi_app()) as live:
        yield live


def test_well_known_paths_in_oauth_mode_serve_the_metadata_and_404_the_rest(oauth_local: LiveServer) -> None:
    base = _base(oauth_local)
    with httpx.Client(timeout=10) as http:
        answers = {path: http.get(base + path) for path in WELL_KNOWN}
        challenge = http.post(oauth_local.url, json=LIST, headers=ACCEPT)
    for path, response in answers.items():
        assert response.status_code != 401, path
        assert "www-authenticate" not in response.headers, path
        if path.startswith("/.well-known/oauth-protected-resource"):
            assert response.status_code == 200
            assert response.json()["resource"] == f"{base}/mcp"
            assert response.json()["authorization_servers"] == [ISSUER]
        else:
            assert response.status_code == 404, path
    # The 401 of the endpoint still points at the metadata.
    assert challenge.status_code == 401
    assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge.headers["www-authenticate"]

"""GET /health: unauthenticated, cheap, no secrets; 200 with the server's name and version (issue 8 item 11).

Uptime monitors and ALB health checks call it without a key, often: it must
not need one, must not fetch a secret per call, and must say nothing secret.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth.ssm import make_ssm_provider
from app.core.events import FakeLambdaContext
from app.main import build_product
from app.server import SERVER_NAME, SERVER_VERSION
from tests.conftest import serve

from .support import Ssm, new_key, ring_json

EVENTS = Path(__file__).resolve().parents[2] / "events"
PARAM = "/mcp/health-test/api-keys"
EXPECTED = {"status": "ok", "name": SERVER_NAME, "version": SERVER_VERSION}


def _v2(path: str, stage: str = "$default", authorization: str | None = None) -> dict[str, Any]:
    event = json.loads((EVENTS / "http-v2-get.json").read_text())
    event["headers"].pop("authorization")
    if authorization is not None:
        event["headers"]["authorization"] = authorization
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /health"
    event["requestContext"]["stage"] = stage
    return event


def _rest(path: str, stage: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "rest-v1-get.json").read_text())
    event["headers"].pop("authorization", None)
    (event.get("multiValueHeaders") or {}).pop("authorization", None)
    event["path"] = f"/{stage}{path}"
    event["resource"] = path
    event["requestContext"]["path"] = f"/{stage}{path}"
    event["requestContext"]["stage"] = stage
    return event


def _alb_health_check() -> dict[str, Any]:
    # What an ALB target group health check sends: GET, no credentials, the ELB's user agent.
    return {
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mcp/abc"}},
        "httpMethod": "GET",
        "path": "/health",
        "queryStringParameters": {},
        "headers": {"user-agent": "ELB-HealthChecker/2.0", "host": "10.0.0.12"},
        "body": "",
        "isBase64Encoded": False,
    }


def _ok(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 200, response
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    assert headers["content-type"].startswith("application/json")
    assert json.loads(response["body"]) == EXPECTED


def test_health_is_unauthenticated_and_cheap(ssm: Ssm, tmp_path: Path) -> None:
    key = new_key()
    ssm.put(PARAM, ring_json((key, {})))
    environ = {"MCP_API_KEYS_PARAM": PARAM, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")}
    product = build_product(environ)
    handler = product.lambda_handler()
    # The process's one SSM client (cached per process): count the GetParameter calls it makes.
    fetched: list[str] = []
    client = make_ssm_provider(product.auth.fetch_timeout_s).client
    client.meta.events.register("before-parameter-build.ssm.GetParameter", lambda params, **_: fetched.append(params["Name"]))
    events = [
        _v2("/health"),
        _v2("/health", authorization="Bearer not-a-key-at-all"),
        _v2("/dev/health", stage="dev"),
        _rest("/health", "Prod"),
        _alb_health_check(),
    ]
    for event in events:
        for _ in range(2):  # cold, then warm
            _ok(handler(copy.deepcopy(event), FakeLambdaContext()))
    assert fetched == []  # no secret fetched, not even once

    # The counter sees SSM: an MCP request with a key does fetch the ring.
    call = _v2("/mcp", authorization=f"Bearer {key.key}")
    call["requestContext"]["http"]["method"] = "POST"
    call["body"] = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    call["headers"]["content-type"] = "application/json"
    assert handler(call, FakeLambdaContext())["statusCode"] == 200
    assert fetched == [PARAM]


def test_health_over_loopback_needs_no_key_and_says_nothing_secret(tmp_path: Path) -> None:
    secret = "health-check-dev-key-0123456789"
    product = build_product({"MCP_DEV_API_KEY": secret, "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")})
    with serve(product.asgi_app()) as live:
        base = live.url.removesuffix("/mcp")
        with httpx.Client(timeout=10) as http:
            anonymous = http.get(base + "/health")
            wrong = http.get(base + "/health", headers={"authorization": "Bearer nope-nope-nope"})
            head = http.head(base + "/health")
            post = http.post(base + "/health", json={})
    for response in (anonymous, wrong):
        assert response.status_code == 200
        assert response.json() == EXPECTED
        assert response.headers["cache-control"] == "no-store"
        assert secret not in response.text
    assert head.status_code == 200 and head.content == b""
    assert post.status_code == 405  # a method it does not take, refused before any credentials check


@pytest.mark.parametrize("path", ["/health/", "/healthz", "/Health"])
def test_only_the_health_path_is_public(tmp_path: Path, path: str) -> None:
    product = build_product({"MCP_DEV_API_KEY": "dev-key-for-health-tests-01", "ITEMS_SQLITE_PATH": str(tmp_path / "i.sqlite3")})
    with serve(product.asgi_app()) as live:
        response = httpx.get(live.url.removesuffix("/mcp") + path, timeout=10)
    assert response.status_code == 404

"""The 401 challenge and the OAuth discovery documents through every Lambda front door (issue 8 item 13).

The handler is fed the event of each front door (API Gateway HTTP API v2, REST
API v1 with a stage, Lambda Function URL, ALB with and without multi-value
headers), twice (cold, then warm), and must answer with `WWW-Authenticate` in
the response it gives the front door. What a front door then does with the
header is AWS's part (README, "Front doors"); the discovery documents are served
without credentials on every front door, so a client that never sees the
header still finds the metadata by the well-known convention.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.core.events import FakeLambdaContext
from app.main import build_product

EVENTS = Path(__file__).resolve().parents[2] / "events"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
ISSUER = "https://issuer.example.com/pool"
WELL_KNOWN = "/.well-known/oauth-protected-resource/mcp"
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mcp/abc"


def _load(name: str) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    event["headers"].pop("authorization", None)
    (event.get("multiValueHeaders") or {}).pop("authorization", None)
    return event


def http_api(method: str, path: str) -> dict[str, Any]:
    event = _load("http-v2-tools-call.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["body"] = json.dumps(CALL) if method == "POST" else None
    return event


def rest_api(method: str, path: str) -> dict[str, Any]:
    event = _load("rest-v1-tools-call.json")
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = event["requestContext"]["path"] = f"/Prod{path}"
    event["requestContext"]["stage"] = "Prod"
    event["resource"] = path
    event["body"] = json.dumps(CALL) if method == "POST" else None
    return event


def function_url(method: str, path: str) -> dict[str, Any]:
    event = http_api(method, path)
    host = "abcdefg.lambda-url.us-east-1.on.aws"
    event["requestContext"]["domainName"] = event["headers"]["host"] = host
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    return event


def alb(method: str, path: str, *, multi: bool = False) -> dict[str, Any]:
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "host": "mcp-alb-123.us-east-1.elb.amazonaws.com",
        "x-forwarded-proto": "https",
    }
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": TARGET_GROUP}},
        "httpMethod": method,
        "path": path,
        "body": json.dumps(CALL) if method == "POST" else "",
        "isBase64Encoded": False,
    }
    if multi:  # target group attribute lambda.multi_value_headers.enabled
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        event["multiValueQueryStringParameters"] = {}
    else:
        event["headers"] = headers
        event["queryStringParameters"] = {}
    return event


FRONT_DOORS: dict[str, tuple[Callable[[str, str], dict[str, Any]], str]] = {
    "http-api-v2": (http_api, "https://abc123.execute-api.us-east-1.amazonaws.com"),
    "rest-api-v1": (rest_api, "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"),
    "function-url": (function_url, "https://abcdefg.lambda-url.us-east-1.on.aws"),
    "alb": (alb, "https://mcp-alb-123.us-east-1.elb.amazonaws.com"),
    "alb-multi-value": (lambda m, p: alb(m, p, multi=True), "https://mcp-alb-123.us-east-1.elb.amazonaws.com"),
}


def _headers(response: dict[str, Any]) -> dict[str, str]:
    found = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        found.setdefault(name.lower(), ", ".join(values))
    return found


@pytest.fixture(scope="module")
def api_key_handler(tmp_path_factory: pytest.TempPathFactory) -> Any:
    items = tmp_path_factory.mktemp("front-doors") / "items.sqlite3"
    return build_product({"MCP_DEV_API_KEY": "front-door-dev-key-0123", "ITEMS_SQLITE_PATH": str(items)}).lambda_handler()


@pytest.fixture(scope="module")
def oauth_handler(tmp_path_factory: pytest.TempPathFactory) -> Any:
    items = tmp_path_factory.mktemp("front-doors-oauth") / "items.sqlite3"
    environ = {
        "MCP_AUTH_MODE": "oauth",
        "MCP_OAUTH_ISSUER": ISSUER,
        # Never fetched: no token is presented, so no signature is checked.
        "MCP_OAUTH_JWKS_URL": "http://127.0.0.1:9/jwks.json",
        "MCP_OAUTH_AUDIENCE": "https://mcp.example.com/mcp",
        "ITEMS_SQLITE_PATH": str(items),
    }
    return build_product(environ).lambda_handler()


@pytest.mark.parametrize("door", FRONT_DOORS)
def test_www_authenticate_reaches_each_front_door(api_key_handler: Any, door: str) -> None:
    make, _ = FRONT_DOORS[door]
    event = make("POST", "/mcp")
    for _ in range(2):  # cold, then warm
        response = api_key_handler(copy.deepcopy(event), FakeLambdaContext())
        assert response["statusCode"] == 401, response
        challenge = _headers(response)["www-authenticate"]
        assert challenge.startswith('Bearer realm="mcp"'), challenge
        assert "x-amzn-remapped-www-authenticate" not in _headers(response)


@pytest.mark.parametrize("door", FRONT_DOORS)
def test_oauth_discovery_works_through_each_front_door(oauth_handler: Any, door: str) -> None:
    make, base = FRONT_DOORS[door]
    for _ in range(2):
        challenge = oauth_handler(make("POST", "/mcp"), FakeLambdaContext())
        assert challenge["statusCode"] == 401
        assert f'resource_metadata="{base}{WELL_KNOWN}"' in _headers(challenge)["www-authenticate"]
        # The same document by convention, without credentials: what a client does when the header is renamed.
        document = oauth_handler(make("GET", WELL_KNOWN), FakeLambdaContext())
        assert document["statusCode"] == 200, document
        assert json.loads(document["body"])["resource"] == f"{base}/mcp"
        assert json.loads(document["body"])["authorization_servers"] == [ISSUER]

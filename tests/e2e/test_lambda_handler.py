"""The Lambda handler fed API Gateway events, each twice in a row (cold, then warm)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app import Settings, create_lambda_handler
from app.core.events import FakeLambdaContext
from app.server import build_server

EVENTS = sorted(Path(__file__).resolve().parents[2].joinpath("events").glob("*.json"))
EXPECTED_STATUS = {"get": 405, "malformed": 400, "initialized": 202}


DEV_KEY = "local-dev-key-for-events"  # the local-only key the committed events carry


@pytest.fixture(scope="module")
def handler(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The product's own handler, as `handler.py` builds it, with local (non-AWS) configuration."""
    from app.main import build_product

    environ = {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(tmp_path_factory.mktemp("items") / "items.sqlite3")}
    return build_product(environ).lambda_handler()


def _kind(path: Path) -> str:
    return path.stem.split("-", 2)[2]


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


ITEM_TOOLS = ("items-add", "items-get", "items-search", "items-list", "items-update", "items-delete")


def test_every_required_event_exists() -> None:
    kinds = {(p.stem.split("-")[0], _kind(p)) for p in EVENTS}
    required = {"initialize", "initialized", "tools-list", "tools-call", "server-discover", "modern-tools-call", "get", "malformed"}
    expected = {(api, kind) for api in ("http", "rest") for kind in required} | {("http", tool) for tool in ITEM_TOOLS}
    assert kinds == expected


@pytest.mark.parametrize("path", EVENTS, ids=[p.stem for p in EVENTS])
def test_event_twice_gives_the_same_answer(handler: Any, path: Path) -> None:
    event = json.loads(path.read_text())
    first = handler(copy.deepcopy(event), FakeLambdaContext())
    second = handler(copy.deepcopy(event), FakeLambdaContext())
    kind = _kind(path)
    assert first["statusCode"] == second["statusCode"] == EXPECTED_STATUS.get(kind, 200)
    if kind != "items-add":  # the replayed add differs only in "created": false
        assert _body(first) == _body(second)
    headers = {k.lower(): v for k, v in first.get("headers", {}).items()}
    assert "mcp-session-id" not in headers
    body = _body(first)
    if kind == "get":
        assert headers["allow"] == "POST"
    elif kind == "malformed":
        assert body["error"]["code"] == -32700 and body["id"] is None
    elif kind == "initialized":
        assert body is None
    else:
        assert "result" in body, body
    if kind in ("items-get", "items-update", "items-delete"):
        # The committed events name an id nobody owns: a tool error the agent can act on.
        assert body["result"]["isError"] is True and "not found" in body["result"]["content"][0]["text"]
    elif kind.startswith("items-"):
        assert body["result"]["isError"] is False
    if kind == "items-add":
        assert _body(first)["result"]["structuredContent"]["item"]["id"] == _body(second)["result"]["structuredContent"]["item"]["id"]
    if kind == "tools-call":
        assert body["result"]["structuredContent"] == {"result": 5}
    if kind == "modern-tools-call":
        assert body["result"]["structuredContent"] == {"result": "hello from 2026"}
        assert body["result"]["resultType"] == "complete"
    if kind == "server-discover":
        assert body["result"]["supportedVersions"] == ["2026-07-28"]


def _v2_event(path: str, body: dict[str, Any], stage: str = "$default") -> dict[str, Any]:
    event = json.loads(Path(EVENTS[0]).parent.joinpath("http-v2-tools-call.json").read_text())
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["stage"] = stage
    event["body"] = json.dumps(body)
    return event


CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}


def test_an_http_api_invocation_builds_its_asgi_scope_once(handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mangum.handlers import HTTPGateway

    builds: list[str] = []
    build = HTTPGateway.scope.fget
    assert build is not None

    def counted(gateway: HTTPGateway) -> Any:
        builds.append(gateway.event["rawPath"])
        return build(gateway)

    monkeypatch.setattr(HTTPGateway, "scope", property(counted))
    event = json.loads((EVENTS[0].parent / "http-v2-tools-call.json").read_text())
    response = handler(copy.deepcopy(event), FakeLambdaContext())
    assert response["statusCode"] == 200 and "result" in _body(response)
    assert builds == [event["rawPath"]]  # Mangum reads it twice; it is built once


def test_http_api_named_stage_prefix_is_stripped(handler: Any) -> None:
    response = handler(_v2_event("/dev/mcp", CALL, stage="dev"), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert _body(response)["result"]["structuredContent"] == {"result": 3}


def test_rest_api_stage_in_path_is_stripped(handler: Any) -> None:
    event = json.loads(Path(EVENTS[0]).parent.joinpath("rest-v1-tools-call.json").read_text())
    event["path"] = "/Prod/mcp"
    response = handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200


def test_custom_domain_base_path_is_stripped() -> None:
    handler = create_lambda_handler(build_server(), Settings(api_base_path="/tools"))
    response = handler(_v2_event("/tools/mcp", CALL), FakeLambdaContext())
    assert _body(response)["result"]["structuredContent"] == {"result": 3}


def test_function_url_event(handler: Any) -> None:
    event = _v2_event("/mcp", CALL)
    event["requestContext"]["domainName"] = "abcdefg.lambda-url.us-east-1.on.aws"
    event["headers"]["host"] = "abcdefg.lambda-url.us-east-1.on.aws"
    event["routeKey"] = "$default"
    for _ in range(2):
        response = handler(copy.deepcopy(event), FakeLambdaContext())
        assert _body(response)["result"]["structuredContent"] == {"result": 3}


def test_alb_event(handler: Any) -> None:
    event = {
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mcp/abc"}},
        "httpMethod": "POST",
        "path": "/mcp",
        "queryStringParameters": {},
        "headers": {"content-type": "application/json", "accept": "application/json, text/event-stream", "host": "mcp-alb-123.us-east-1.elb.amazonaws.com", "authorization": f"Bearer {DEV_KEY}"},
        "body": json.dumps(CALL),
        "isBase64Encoded": False,
    }
    for _ in range(2):
        response = handler(copy.deepcopy(event), FakeLambdaContext())
        assert response["statusCode"] == 200
        assert _body(response)["result"]["structuredContent"] == {"result": 3}


def test_base64_encoded_body(handler: Any) -> None:
    import base64

    event = _v2_event("/mcp", CALL)
    event["body"] = base64.b64encode(json.dumps(CALL).encode()).decode()
    event["isBase64Encoded"] = True
    assert _body(handler(event, FakeLambdaContext()))["result"]["structuredContent"] == {"result": 3}


def test_deadline_follows_the_lambda_context() -> None:
    import asyncio

    from mcp.server.mcpserver import MCPServer

    server: MCPServer[Any] = MCPServer("slow")

    @server.tool(description="Sleeps.")
    async def nap(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "rested"

    handler = create_lambda_handler(server, Settings(deadline_margin_s=0.5))
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "nap", "arguments": {"seconds": 5}}}
    response = handler(_v2_event("/mcp", body), FakeLambdaContext(timeout_s=0.8))
    error = _body(response)["error"]
    assert error["code"] == -32001
    assert error["data"]["timeoutSeconds"] <= 0.3


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key-wrong-key-wrong", "Basic dXNlcjpwYXNz"], ids=["missing", "unknown-key", "wrong-scheme"])
def test_events_without_a_valid_key_are_refused_and_reach_no_tool(handler: Any, authorization: str | None) -> None:
    """No key: 401 + challenge. A key not accepted (API-key mode): 403 saying so, no challenge (issue 17, item 2)."""
    event = json.loads(Path(EVENTS[0]).parent.joinpath("http-v2-tools-call.json").read_text())
    event["headers"].pop("authorization")
    if authorization is not None:
        event["headers"]["authorization"] = authorization
    for _ in range(2):
        response = handler(copy.deepcopy(event), FakeLambdaContext())
        assert "result" not in _body(response)
        if authorization is None:
            assert response["statusCode"] == 401
            assert response["headers"]["www-authenticate"].startswith("Bearer")
        else:
            assert response["statusCode"] == 403 and "www-authenticate" not in response["headers"]
            assert "this API key was not accepted" in _body(response)["error"]["message"]


def test_items_tools_through_the_handler(handler: Any) -> None:
    add = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "items_add", "arguments": {"title": "Lambda note", "tags": ["lambda"], "idempotency_key": "evt-1"}}}
    first = _body(handler(_v2_event("/mcp", add), FakeLambdaContext()))["result"]["structuredContent"]
    again = _body(handler(_v2_event("/mcp", add), FakeLambdaContext()))["result"]["structuredContent"]
    assert first["created"] is True and again["created"] is False
    assert again["item"]["id"] == first["item"]["id"]
    get = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "items_get", "arguments": {"id": first["item"]["id"]}}}
    got = _body(handler(_v2_event("/mcp", get), FakeLambdaContext()))["result"]["structuredContent"]
    assert got["title"] == "Lambda note", got


def test_item_events_chain_add_get_update_delete(handler: Any) -> None:
    """The item events with the id the add returned: the full life of an item through the handler."""
    def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        event = json.loads(Path(EVENTS[0]).parent.joinpath(f"http-v2-{name.replace('_', '-')}.json").read_text())
        body = json.loads(event["body"])
        body["params"]["arguments"] = arguments
        event["body"] = json.dumps(body)
        result = _body(handler(event, FakeLambdaContext()))["result"]
        assert result["isError"] is False, result
        return result["structuredContent"]

    item = call("items_add", {"title": "Chained", "tags": ["chain"]})["item"]
    assert call("items_get", {"id": item["id"]})["title"] == "Chained"
    assert call("items_update", {"id": item["id"], "expected_version": 1, "title": "Renamed"})["version"] == 2
    call("items_delete", {"id": item["id"]})
    gone = json.loads(Path(EVENTS[0]).parent.joinpath("http-v2-items-get.json").read_text())
    body = json.loads(gone["body"])
    body["params"]["arguments"] = {"id": item["id"]}
    gone["body"] = json.dumps(body)
    assert _body(handler(gone, FakeLambdaContext()))["result"]["isError"] is True

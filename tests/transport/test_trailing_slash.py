"""`/mcp/` is the MCP endpoint too: served like `/mcp`, never redirected (issue 8 item 1).

Starlette's router answered `POST /mcp/` with a 307 to `/mcp`: the OpenAI Agents
SDK cannot follow it, and behind a REST API stage the Location dropped the stage.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from app import Settings, create_lambda_handler
from app.core.events import FakeLambdaContext
from app.server import build_server
from tests.conftest import LiveServer

EVENTS = Path(__file__).resolve().parents[2] / "events"
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}


def _no_redirect(response: httpx.Response | dict[str, Any]) -> None:
    status = response.status_code if isinstance(response, httpx.Response) else response["statusCode"]
    headers = response.headers if isinstance(response, httpx.Response) else {k.lower(): v for k, v in response.get("headers", {}).items()}
    assert not 300 <= status < 400, status
    assert "location" not in headers


def test_post_mcp_slash_is_served_not_redirected(product_server: LiveServer) -> None:
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        plain = http.post(product_server.url, json=CALL, headers=ACCEPT)
        slashed = http.post(product_server.url + "/", json=CALL, headers=ACCEPT)
        get = http.get(product_server.url + "/")
    for response in (plain, slashed, get):
        _no_redirect(response)
    assert slashed.status_code == plain.status_code == 200
    assert slashed.json() == plain.json()
    assert slashed.json()["result"]["structuredContent"] == {"result": 5}
    assert get.status_code == 405 and get.headers["allow"] == "POST"


def test_other_paths_are_not_redirected_either(product_server: LiveServer) -> None:
    base = product_server.url.removesuffix("/mcp")
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        responses = [http.post(base + path, json=CALL, headers=ACCEPT) for path in ("/mcp//", "/health/", "/nothing/")]
    for response in responses:
        _no_redirect(response)
        assert response.status_code == 404


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_python_client_on_mcp_slash(product_server: LiveServer, mode: str) -> None:
    async with Client(product_server.url + "/", mode=mode) as client:
        result = await client.call_tool("add", {"a": 40, "b": 2})
    assert result.structured_content == {"result": 42}


@pytest.fixture(scope="module")
def handler() -> Any:
    return create_lambda_handler(build_server(), Settings())


def test_mcp_slash_behind_a_rest_stage_is_served_not_redirected(handler: Any) -> None:
    event = json.loads((EVENTS / "rest-v1-tools-call.json").read_text())
    event["path"] = "/Prod/mcp/"
    event["requestContext"]["path"] = "/Prod/mcp/"
    event["body"] = json.dumps(CALL)
    for _ in range(2):  # cold, then warm
        response = handler(copy.deepcopy(event), FakeLambdaContext())
        _no_redirect(response)
        assert response["statusCode"] == 200
        assert json.loads(response["body"])["result"]["structuredContent"] == {"result": 5}


def test_mcp_slash_behind_an_http_api_stage_and_a_base_path_is_served(handler: Any) -> None:
    def v2(path: str, stage: str) -> dict[str, Any]:
        event = json.loads((EVENTS / "http-v2-tools-call.json").read_text())
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["stage"] = stage
        event["body"] = json.dumps(CALL)
        return event

    based = create_lambda_handler(build_server(), Settings(api_base_path="/tools"))
    for run, event in ((handler, v2("/dev/mcp/", "dev")), (based, v2("/tools/mcp/", "$default"))):
        for _ in range(2):
            response = run(copy.deepcopy(event), FakeLambdaContext())
            _no_redirect(response)
            assert json.loads(response["body"])["result"]["structuredContent"] == {"result": 5}

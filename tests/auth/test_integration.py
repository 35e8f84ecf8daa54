"""protect() around the real transport, driven by API Gateway events through the Lambda handler."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer

from app.auth import AuthSettings, metadata_routes, protect
from app.transport.config import Settings
from app.core.principal import current_principal

EVENTS = Path(__file__).resolve().parents[2] / "events"
DEV_KEY = "local-dev-key-0123456789"


@pytest.fixture
def handler() -> Any:
    lambda_entry = pytest.importorskip("app.transport.lambda_entry")
    server: MCPServer[Any] = MCPServer("auth-integration")

    @server.tool()
    async def whoami() -> str:
        token = get_access_token()
        return f"{current_principal().id}|{token.client_id if token else None}"

    @server.tool()
    def whoami_sync() -> str:  # runs in a worker thread under the SDK
        return current_principal().id

    settings = Settings.from_env({})
    auth = AuthSettings.from_env(
        {
            "MCP_AUTH_MODE": "api_key+oauth",
            "MCP_DEV_API_KEY": DEV_KEY,
            "MCP_OAUTH_ISSUER": "https://idp.example.com",
            "MCP_OAUTH_AUDIENCE": "https://mcp.example.com/mcp",
        }
    )
    return lambda_entry.create_lambda_handler(
        server, settings, wrap=lambda app: protect(app, settings, auth), extra_routes=metadata_routes(settings, auth)
    )


def rest_event(body: dict[str, Any] | None, authorization: str | None = None, path: str = "/mcp") -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / "rest-v1-tools-call.json").read_text()))
    event["body"] = json.dumps(body) if body is not None else None
    event["path"] = path
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    if body is None:
        event["httpMethod"] = event["requestContext"]["httpMethod"] = "GET"
    # The committed events carry a development key; these cases choose their own credential.
    event["headers"].pop("authorization", None)
    event["multiValueHeaders"].pop("authorization", None)
    if authorization is not None:
        event["headers"]["authorization"] = authorization
        event["multiValueHeaders"]["authorization"] = [authorization]
    return event


def call(name: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": {}}}


@pytest.mark.parametrize(
    ("tool", "expected"), [("whoami", "local-dev-key|local:local-dev-key"), ("whoami_sync", "local-dev-key")]
)
def test_principal_reaches_async_and_sync_tools(handler: Any, tool: str, expected: str) -> None:
    response = handler(rest_event(call(tool), f"Bearer {DEV_KEY}"), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["result"]["structuredContent"] == {"result": expected}


def test_refusal_and_metadata_behind_the_rest_stage(handler: Any) -> None:
    refused = handler(rest_event(call("whoami")), None)
    assert refused["statusCode"] == 401
    headers = {k.lower(): v for k, v in (refused.get("headers") or {}).items()}
    prm_url = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/.well-known/oauth-protected-resource/mcp"
    assert headers["www-authenticate"] == f'Bearer resource_metadata="{prm_url}"'
    document = handler(rest_event(None, path="/.well-known/oauth-protected-resource/mcp"), None)
    assert document["statusCode"] == 200
    assert json.loads(document["body"])["resource"] == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/mcp"

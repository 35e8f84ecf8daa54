"""Per-item scopes (issue 11), through the product served on 127.0.0.1: raw HTTP and the Python SDK client,
both protocol eras, API keys from a key ring and OAuth access tokens against a loopback JWKS.

A read-only credential sees and uses only what reads the item store; a write is refused 403 with the
`insufficient_scope` challenge naming `items:write`; a credential with both scopes does everything;
another principal's items stay invisible whatever the scopes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from app.core.errors import FORBIDDEN_CODE
from app import scopes
from app.auth.tool_scopes import ScopeGuard
from app.core.errors import InsufficientScope
from tests.conftest import LiveServer, serve
from tests.rpc import mcp_request, result_of

from .support import ISSUER, RESOURCE, JwksServer, SigningKeyPair, claims, new_key, ring_json, sign

MODERN = "2026-07-28"
READ_TOOLS = {"items_get", "items_search", "items_list", "items_export"}
WRITE_TOOLS = {"items_add", "items_update", "items_delete"}
DEMO_TOOLS = {"add", "echo"}
PRM_URL = "http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"


class Keys:
    def __init__(self) -> None:
        self.reader, self.writer, self.nothing, self.other_reader = new_key(), new_key(), new_key(), new_key()

    def ring(self) -> str:
        return ring_json(
            (self.reader, {"name": "reader", "scopes": ["items:read"]}),
            (self.writer, {"name": "writer", "scopes": ["items:read", "items:write"]}),
            (self.nothing, {"name": "no scopes", "scopes": []}),
            (self.other_reader, {"name": "another reader", "scopes": ["items:read"]}),
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks(rsa_key: SigningKeyPair) -> Iterator[JwksServer]:
    server = JwksServer([rsa_key.public_jwk()])
    try:
        yield server
    finally:
        server.stop()


def _product_env(tmp: Path, keys: Keys, **extra: str) -> dict[str, str]:
    ring = tmp / "ring.json"
    ring.write_text(keys.ring(), encoding="utf-8")
    return {
        "MCP_API_KEYS_FILE": str(ring),
        "ITEMS_SQLITE_PATH": str(tmp / "items.sqlite3"),
        "MCP_ALLOWED_HOSTS": "127.0.0.1,localhost",
        **extra,
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, keys: Keys, jwks: JwksServer) -> Iterator[LiveServer]:
    """API keys and OAuth tokens both accepted (the challenge then names the resource metadata)."""
    from app.main import build_product

    env = _product_env(
        tmp_path_factory.mktemp("scopes"),
        keys,
        MCP_OAUTH_ISSUER=ISSUER,
        MCP_OAUTH_JWKS_URL=jwks.url,
        MCP_OAUTH_AUDIENCE=RESOURCE,
    )
    with serve(build_product(env).asgi_app()) as server:
        yield server


@pytest.fixture(scope="module")
def live_keys_only(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[LiveServer]:
    """API keys only: the challenge carries realm="mcp" instead of resource_metadata."""
    from app.main import build_product

    with serve(build_product(_product_env(tmp_path_factory.mktemp("scopes-keys"), keys)).asgi_app()) as server:
        yield server


def token(rsa_key: SigningKeyPair, sub: str, **claim: Any) -> str:
    return sign(rsa_key, claims(sub=sub, **claim))


# ------------------------------------------------------------------ raw HTTP


def rpc(
    url: str, credential: str, method: str, params: dict[str, Any] | None = None, *, era: str = "2025-06-18",
    request_id: int = 7,
) -> httpx.Response:
    headers, body = mcp_request(credential, era, method, params, request_id=request_id)
    return httpx.post(url, json=body, headers=headers, timeout=30)


ERAS = pytest.mark.parametrize("era", ["2025-06-18", MODERN], ids=["handshake-era", "2026-07-28"])


@ERAS
def test_read_only_key_lists_only_what_it_may_use(live: LiveServer, keys: Keys, era: str) -> None:
    key = keys.reader.key
    tools = {t["name"] for t in result_of(rpc(live.url, key, "tools/list", era=era))["tools"]}
    assert tools == DEMO_TOOLS | READ_TOOLS
    resources = {r["uri"] for r in result_of(rpc(live.url, key, "resources/list", era=era))["resources"]}
    assert "items://me/usage" in resources
    templates = {t["uriTemplate"] for t in result_of(rpc(live.url, key, "resources/templates/list", era=era))["resourceTemplates"]}
    assert "items://{id}" in templates
    prompts = {p["name"] for p in result_of(rpc(live.url, key, "prompts/list", era=era))["prompts"]}
    assert "summarize_items" in prompts


@ERAS
def test_key_without_scopes_sees_only_the_demo_tools_and_no_item_resource(
    live: LiveServer, keys: Keys, era: str
) -> None:
    key = keys.nothing.key
    assert {t["name"] for t in result_of(rpc(live.url, key, "tools/list", era=era))["tools"]} == DEMO_TOOLS
    resources = {r["uri"] for r in result_of(rpc(live.url, key, "resources/list", era=era))["resources"]}
    assert not any(uri.startswith("items://") for uri in resources)
    templates = result_of(rpc(live.url, key, "resources/templates/list", era=era))["resourceTemplates"]
    assert not any(t["uriTemplate"].startswith("items://") for t in templates)
    assert "summarize_items" not in {p["name"] for p in result_of(rpc(live.url, key, "prompts/list", era=era))["prompts"]}
    assert result_of(rpc(live.url, key, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, era=era))[
        "structuredContent"
    ] == {"result": 3}


def assert_challenge(response: httpx.Response, needed: str, *, metadata: str | None, request_id: int = 7) -> None:
    assert response.status_code == 403, response.text
    where = f'resource_metadata="{metadata}"' if metadata else 'realm="mcp"'
    assert response.headers["www-authenticate"] == f'Bearer {where}, error="insufficient_scope", scope="{needed}"'
    error = response.json()
    assert error["id"] == request_id
    assert error["error"]["code"] == FORBIDDEN_CODE
    assert needed in error["error"]["message"]
    assert error["error"]["data"] == {"requiredScopes": needed.split()}


@ERAS
def test_write_with_read_only_key_gets_the_403_challenge_naming_items_write(
    live: LiveServer, keys: Keys, era: str
) -> None:
    response = rpc(live.url, keys.reader.key, "tools/call", {"name": "items_add", "arguments": {"title": "nope"}}, era=era)
    assert_challenge(response, "items:write", metadata=PRM_URL.format(port=live.port))
    # Nothing was written: the refusal came before the tool ran.
    listed = result_of(rpc(live.url, keys.reader.key, "tools/call", {"name": "items_list", "arguments": {}}, era=era))
    assert all(i["title"] != "nope" for i in listed["structuredContent"]["items"])


@ERAS
def test_api_key_mode_refuses_with_a_plain_json_rpc_error_and_no_challenge(
    live_keys_only: LiveServer, keys: Keys, era: str
) -> None:
    """A key cannot be stepped up: no OAuth challenge for clients to chase (issue 17, item 3), the reason as written."""
    response = rpc(
        live_keys_only.url, keys.reader.key, "tools/call", {"name": "items_delete", "arguments": {"id": "x"}}, era=era
    )
    assert response.status_code == 200 and "www-authenticate" not in response.headers
    error = response.json()["error"]
    assert error["code"] == -32051 and error["message"] == "Forbidden: tool items_delete needs scope items:write"
    assert error["data"] == {"requiredScopes": ["items:write"]}


@ERAS
def test_reads_outside_the_scopes_are_refused_with_items_read(live: LiveServer, keys: Keys, era: str) -> None:
    metadata = PRM_URL.format(port=live.port)
    key = keys.nothing.key
    assert_challenge(rpc(live.url, key, "resources/read", {"uri": "items://me/usage"}, era=era), "items:read", metadata=metadata)
    assert_challenge(rpc(live.url, key, "resources/read", {"uri": "items://abc123"}, era=era), "items:read", metadata=metadata)
    assert_challenge(
        rpc(live.url, key, "prompts/get", {"name": "summarize_items", "arguments": {"query": "x"}}, era=era),
        "items:read",
        metadata=metadata,
    )
    completion = {"ref": {"type": "ref/resource", "uri": "items://{id}"}, "argument": {"name": "id", "value": ""}}
    assert_challenge(rpc(live.url, key, "completion/complete", completion, era=era), "items:read", metadata=metadata)
    assert_challenge(
        rpc(live.url, key, "tools/call", {"name": "items_get", "arguments": {"id": "abc"}}, era=era),
        "items:read",
        metadata=metadata,
    )


@ERAS
def test_key_with_both_scopes_does_everything_and_others_never_see_its_items(
    live: LiveServer, keys: Keys, era: str
) -> None:
    writer, other = keys.writer.key, keys.other_reader.key
    tools = {t["name"] for t in result_of(rpc(live.url, writer, "tools/list", era=era))["tools"]}
    assert tools == DEMO_TOOLS | READ_TOOLS | WRITE_TOOLS
    call = lambda key, name, args: result_of(  # noqa: E731
        rpc(live.url, key, "tools/call", {"name": name, "arguments": args}, era=era)
    )
    added = call(writer, "items_add", {"title": f"private {era}", "tags": ["mine"]})["structuredContent"]["item"]
    updated = call(writer, "items_update", {"id": added["id"], "expected_version": 1, "body": "more"})
    assert updated["structuredContent"]["version"] == 2
    read = result_of(rpc(live.url, writer, "resources/read", {"uri": f"items://{added['id']}"}, era=era))
    assert json.loads(read["contents"][0]["text"])["id"] == added["id"]
    prompt = result_of(rpc(live.url, writer, "prompts/get", {"name": "summarize_items", "arguments": {"query": "private"}}, era=era))
    assert added["id"] in json.dumps(prompt)
    tags = result_of(rpc(live.url, writer, "completion/complete", {"ref": {"type": "ref/prompt", "name": "summarize_items"}, "argument": {"name": "tag", "value": "mi"}}, era=era))
    assert "mine" in tags["completion"]["values"]
    # Another principal with items:read: the scope lets it read *its own* store, never this one.
    assert call(other, "items_get", {"id": added["id"]})["isError"] is True
    assert added["id"] not in json.dumps(call(other, "items_list", {}))
    assert call(writer, "items_delete", {"id": added["id"]})["structuredContent"] == {"id": added["id"], "deleted": True}


def test_batch_with_a_refused_member_answers_the_others_and_carries_the_challenge(live: LiveServer, keys: Keys) -> None:
    """2025-03-26 batch: the refused member is a JSON-RPC error in the array; the batch is 200 with the challenge."""
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "items_list", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "items_add", "arguments": {"title": "x"}}},
    ]
    response = httpx.post(
        live.url,
        json=batch,
        headers={
            "Authorization": f"Bearer {keys.reader.key}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-03-26",
        },
        timeout=30,
    )
    assert response.status_code == 200
    answers = {m["id"]: m for m in response.json()}
    assert "result" in answers[1]
    assert answers[2]["error"]["code"] == FORBIDDEN_CODE
    assert answers[2]["error"]["data"] == {"requiredScopes": ["items:write"]}
    assert 'error="insufficient_scope", scope="items:write"' in response.headers["www-authenticate"]


# ------------------------------------------------------------------ OAuth tokens


@ERAS
def test_oauth_token_scope_claim_decides_like_a_key(
    live: LiveServer, rsa_key: SigningKeyPair, era: str
) -> None:
    reader = token(rsa_key, f"reader-{era}", scope="items:read")
    tools = {t["name"] for t in result_of(rpc(live.url, reader, "tools/list", era=era))["tools"]}
    assert tools == DEMO_TOOLS | READ_TOOLS
    assert result_of(rpc(live.url, reader, "tools/call", {"name": "items_list", "arguments": {}}, era=era))["isError"] is False
    refused = rpc(live.url, reader, "tools/call", {"name": "items_add", "arguments": {"title": "t"}}, era=era)
    assert_challenge(refused, "items:write", metadata=PRM_URL.format(port=live.port))
    # Step up: a token carrying both scopes (here as an `scp` list) may write.
    writer = token(rsa_key, f"reader-{era}", scope=None, scp=["items:read", "items:write"])
    added = result_of(rpc(live.url, writer, "tools/call", {"name": "items_add", "arguments": {"title": "t"}}, era=era))
    assert added["structuredContent"]["created"] is True


def test_metadata_lists_every_declared_scope(live: LiveServer) -> None:
    document = httpx.get(PRM_URL.format(port=live.port), timeout=10).json()
    assert {"items:read", "items:write"} <= set(document["scopes_supported"])


# ------------------------------------------------------------------ the Python SDK client


def sdk_client(url: str, credential: str, mode: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {credential}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode=mode)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_python_client_with_read_only_key_reads_and_is_refused_writes(
    live: LiveServer, keys: Keys, mode: str
) -> None:
    async with sdk_client(live.url, keys.reader.key, mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == DEMO_TOOLS | READ_TOOLS
        listed = await client.call_tool("items_list", {})
        assert listed.is_error is False
        usage = await client.read_resource("items://me/usage")
        assert json.loads(usage.contents[0].text)["principal"]["id"] == keys.reader.key_id
        with pytest.raises(MCPError) as refused:
            await client.call_tool("items_add", {"title": "not allowed"})
    assert refused.value.error.code == FORBIDDEN_CODE
    assert "items:write" in refused.value.error.message


# ------------------------------------------------------------------ operators, dev key, catalog


def test_refusal_shows_the_missing_scope_in_the_access_log_never_the_key(
    live: LiveServer, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        rpc(live.url, keys.reader.key, "tools/call", {"name": "items_delete", "arguments": {"id": "x"}})
    lines = [r for r in caplog.records if r.name == "app.access" and getattr(r, "mcp_tool", None) == "items_delete"]
    assert lines and lines[-1].missing_scopes == "items:write"
    assert lines[-1].error_code == FORBIDDEN_CODE
    assert all(keys.reader.secret not in str(r.__dict__) for r in caplog.records)


def test_refusal_is_counted_per_missing_scope_in_emf() -> None:
    from app.observability.metrics import InvocationMetrics

    metrics = InvocationMetrics("Ns", "svc", known_method=lambda m: True, known_tool=lambda t: True)
    metrics.record("tools/call", "items_add", 1.0, True, "items:write")
    metrics.record("tools/call", "items_add", 1.0, True, "items:write")
    refusals = metrics._refusals(metrics.pending)  # noqa: SLF001 - the grouping the flush prints
    document = json.loads(
        metrics._refusal_document("items:write").replace('"@@Timestamp@@"', "1").replace('"@@Refusals@@"', "[2]")  # noqa: SLF001
    )
    assert refusals == {"items:write": 2}
    assert document["missing_scope"] == "items:write" and document["Refusals"] == [2]
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "missing_scope"]]


@pytest.mark.parametrize(
    ("dev_scopes", "expected"),
    [(None, DEMO_TOOLS | READ_TOOLS | WRITE_TOOLS), ("items:read", DEMO_TOOLS | READ_TOOLS), ("none", DEMO_TOOLS)],
    ids=["default-every-declared-scope", "read-only", "none"],
)
def test_dev_key_holds_every_declared_scope_unless_told(tmp_path: Path, dev_scopes: str | None, expected: set[str]) -> None:
    from app.main import build_product

    env = {"MCP_DEV_API_KEY": "dev-key-for-scope-tests-01", "ITEMS_SQLITE_PATH": str(tmp_path / "i.sqlite3"),
           "MCP_ALLOWED_HOSTS": "127.0.0.1"}
    if dev_scopes is not None:
        env["MCP_DEV_API_KEY_SCOPES"] = dev_scopes
    with serve(build_product(env).asgi_app()) as server:
        tools = result_of(rpc(server.url, "dev-key-for-scope-tests-01", "tools/list"))["tools"]
    assert {t["name"] for t in tools} == expected


@pytest.mark.anyio
async def test_every_tool_resource_template_and_prompt_of_the_product_declares_its_scopes(tmp_path: Path) -> None:
    from app.main import build_product

    product = build_product({"MCP_DEV_API_KEY": "dev-key-for-scope-tests-01", "ITEMS_SQLITE_PATH": str(tmp_path / "c.db")})
    server, declared = product.server, product.scopes
    undeclared = (
        [("tool", t.name) for t in await server.list_tools() if declared.needs("tool", t.name) is None]
        + [("resource", str(r.uri)) for r in await server.list_resources() if declared.needs("resource", str(r.uri)) is None]
        + [("template", t.uri_template) for t in await server.list_resource_templates() if declared.needs("template", t.uri_template) is None]
        + [("prompt", p.name) for p in await server.list_prompts() if declared.needs("prompt", p.name) is None]
    )
    assert undeclared == []
    assert declared.needs("tool", "items_add") == {"items:write"}
    assert declared.needs("tool", "items_get") == {"items:read"}
    assert declared.needs("tool", "echo") == frozenset()


# ------------------------------------------------------------------ the tasks hook


@pytest.mark.anyio
async def test_require_tool_refusal_from_a_handler_gets_the_challenge() -> None:
    """The hook for tasks/*: code that learns the tool late calls `require_tool`; the guard adds the challenge."""
    from mcp.server.context import ServerRequestContext

    from app.auth.challenge import Challenger
    from app.core.principal import Principal, bound_principal

    catalog = scopes.ScopeCatalog()
    catalog.declare("tool", "export", ["items:read"])
    guard = ScopeGuard(catalog, Challenger(oauth=True, mcp_path="/mcp", public_url="https://mcp.example.com"))

    async def handler(ctx: Any) -> Any:  # e.g. tasks/get after loading the task record of tool "export"
        scopes.require_tool("export", catalog)
        return {}

    ctx = ServerRequestContext(session=None, lifespan_context={}, protocol_version=MODERN, method="tasks/get",  # type: ignore[arg-type]
                               params={"taskId": "t1"}, request_id=1)
    with bound_principal(Principal(id="p", kind="api_key", scopes=frozenset({"other"}))):
        with pytest.raises(InsufficientScope) as refused:
            await guard(ctx, handler)
    assert refused.value.status == 403
    assert refused.value.headers == ((b"www-authenticate", b'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", scope="items:read"'),)
    with bound_principal(Principal(id="p", kind="api_key", scopes=frozenset({"items:read"}))):
        assert await guard(ctx, handler) == {}

"""The HTTP surface, request by request: every malformed input gets its status and a JSON-RPC error.

Driven through the real ASGI app with httpx's ASGI transport (no network);
the same app is served over loopback by the client tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import pytest
from mcp.server.mcpserver import MCPServer

from app import Settings, create_asgi_app
from app.core.events import modern_meta
from app.server import build_server
from tests.fixtures.everything import build as build_fixture

MODERN = "2026-07-28"
ACCEPT_BOTH = "application/json, text/event-stream"
META = modern_meta("t")
HOST = "abc123.execute-api.us-east-1.amazonaws.com"


def _client(app: Any) -> httpx.Client:
    # A sync facade over the ASGI app: each request runs the app in a fresh loop.
    return _SyncASGI(app)


class _SyncASGI:
    def __init__(self, app: Any) -> None:
        self._app = app

    def post(self, content: bytes | str | None = None, *, headers: dict[str, str] | None = None, json_body: Any = None, method: str = "POST") -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url=f"https://{HOST}") as client:
                hdrs = {"accept": ACCEPT_BOTH, "content-type": "application/json"}
                hdrs.update(headers or {})
                body = json.dumps(json_body).encode() if json_body is not None else content
                return await client.request(method, "/mcp", content=body, headers={k: v for k, v in hdrs.items() if v is not None})

        return asyncio.run(go())


@pytest.fixture(scope="module")
def api() -> _SyncASGI:
    return _client(create_asgi_app(build_server(), Settings()))


@pytest.fixture(scope="module")
def fixture_api() -> _SyncASGI:
    return _client(create_asgi_app(build_fixture(), Settings()))


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {"mcp-protocol-version": MODERN, "mcp-method": method}
    if name is not None:
        headers["mcp-name"] = name
    return headers


def modern_call(name: str, arguments: dict[str, Any], request_id: int = 1, **extra: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments, "_meta": dict(META), **extra}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["jsonrpc"] == "2.0" and "id" in body, body
    return body["error"]


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("text/event-stream")
    return [json.loads(line[len("data: "):]) for line in response.text.splitlines() if line.startswith("data: ")]


# -- HTTP layer -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
def test_non_post_methods_get_405_with_allow(api: _SyncASGI, method: str) -> None:
    response = api.post(b"", method=method)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_of(response)["code"] == -32600


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00garbage", b"[" * 100_000 + b"]" * 100_000, b'{"a": NaN}', b'{"a": "\\ud800"}', b""],
    ids=["syntax", "invalid-utf8", "pathological-nesting", "nan", "lone-surrogate", "empty"],
)
def test_bad_json_is_400_parse_error_with_null_id(api: _SyncASGI, body: bytes) -> None:
    response = api.post(body)
    assert response.status_code == 400
    assert response.json() == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error: body is not valid JSON"}}


def test_body_over_limit_is_413_by_declared_length() -> None:
    api = _client(create_asgi_app(build_server(), Settings(max_body_bytes=1024)))
    response = api.post(json_body={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x" * 2000}}})
    assert response.status_code == 413
    assert error_of(response)["code"] == -32600


def test_body_over_limit_is_413_when_streamed_without_length() -> None:
    app = create_asgi_app(build_server(), Settings(max_body_bytes=1024))

    async def go() -> tuple[int, bytes]:
        chunks = [b"{" + b" " * 600, b" " * 600, b"}"]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": [(b"content-type", b"application/json")], "query_string": b"", "root_path": ""}
        await app(scope, receive, send)
        return sent[0]["status"], sent[1]["body"]

    status, body = asyncio.run(go())
    assert status == 413
    assert json.loads(body)["error"]["code"] == -32600


def test_default_body_limit_is_4_mib() -> None:
    assert Settings().max_body_bytes == 4 * 1024 * 1024


@pytest.mark.parametrize("accept", ["text/html", "image/png, text/plain"], ids=["html", "image-text"])
def test_unacceptable_accept_is_406(api: _SyncASGI, accept: str) -> None:
    response = api.post(json_body={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"accept": accept})
    assert response.status_code == 406


@pytest.mark.parametrize("accept", ["*/*", "application/*", "application/json", None, "text/event-stream"], ids=["any", "app-any", "json-only", "absent", "sse-only"])
def test_lenient_accept_is_served(api: _SyncASGI, accept: str | None) -> None:
    response = api.post(json_body={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"accept": accept})
    assert response.status_code == 200
    if accept == "text/event-stream":
        assert sse_events(response)[0]["result"] == {}
    else:
        assert response.json()["result"] == {}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None], ids=["text", "form", "absent"])
def test_non_json_content_type_is_415(api: _SyncASGI, content_type: str | None) -> None:
    response = api.post(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', headers={"content-type": content_type})
    assert response.status_code == 415


def test_json_content_type_with_charset_is_fine(api: _SyncASGI) -> None:
    response = api.post(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', headers={"content-type": "Application/JSON; charset=utf-8"})
    assert response.status_code == 200


def test_foreign_origin_is_403_and_api_host_is_never_421(api: _SyncASGI) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert api.post(json_body=ping, headers={"origin": "https://evil.example.com"}).status_code == 403
    same_origin = api.post(json_body=ping, headers={"origin": f"https://{HOST}"})
    assert same_origin.status_code == 200  # the API's own host and origin: never 421, never 403


def test_configured_origin_is_allowed() -> None:
    api = _client(create_asgi_app(build_server(), Settings(allowed_origins=("https://app.example.org",))))
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert api.post(json_body=ping, headers={"origin": "https://app.example.org"}).status_code == 200
    assert api.post(json_body=ping, headers={"origin": "https://other.example.org"}).status_code == 403


def test_host_allowlist_when_configured_rejects_rebinding() -> None:
    api = _client(create_asgi_app(build_server(), Settings(allowed_hosts=("localhost", "127.0.0.1"))))
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert api.post(json_body=ping).status_code == 421  # HOST is the API domain, not allowed here
    assert 400 <= api.post(json_body=ping, headers={"host": "evil.example.com"}).status_code < 500
    assert api.post(json_body=ping, headers={"host": "127.0.0.1:8000", "origin": "http://localhost:3000"}).status_code == 200


def test_no_session_id_is_issued_and_a_stray_one_is_ignored(api: _SyncASGI) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    response = api.post(json_body=init)
    assert "mcp-session-id" not in response.headers
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}
    response = api.post(json_body=call, headers={"mcp-session-id": "made-up-session", "mcp-protocol-version": "2025-11-25"})
    assert response.status_code == 200 and response.json()["result"]["structuredContent"] == {"result": 3}
    assert "mcp-session-id" not in response.headers


# -- handshake era ----------------------------------------------------------------


@pytest.mark.parametrize("requested,answered", [("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"), ("2024-11-05", "2024-11-05"), ("1999-01-01", "2025-11-25")])
def test_initialize_negotiates_the_version(api: _SyncASGI, requested: str, answered: str) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": requested, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    assert api.post(json_body=init).json()["result"]["protocolVersion"] == answered


def test_requests_work_without_any_prior_initialize(api: _SyncASGI) -> None:
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}
    response = api.post(json_body=call, headers={"mcp-protocol-version": "2025-06-18"})
    assert {t["name"] for t in response.json()["result"]["tools"]} >= {"add", "echo"}


@pytest.mark.parametrize(
    "body",
    [{"jsonrpc": "2.0", "method": "notifications/initialized"}, {"jsonrpc": "2.0", "id": 99, "result": {}}, {"jsonrpc": "2.0", "id": 98, "error": {"code": -1, "message": "no"}}],
    ids=["notification", "posted-result", "posted-error"],
)
def test_notifications_and_posted_responses_get_202_empty(api: _SyncASGI, body: dict[str, Any]) -> None:
    response = api.post(json_body=body, headers={"mcp-protocol-version": "2025-11-25"})
    assert response.status_code == 202
    assert response.content == b""


@pytest.mark.parametrize(
    "body,code",
    [
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, -32600),
        ({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": [1, 2]}, -32600),
        ("just a string", -32600),
    ],
    ids=["bad-version", "method-not-string", "id-object", "params-array", "scalar-body"],
)
def test_malformed_requests_are_400_invalid_request(api: _SyncASGI, body: Any, code: int) -> None:
    response = api.post(json_body=body, headers={"mcp-protocol-version": "2025-11-25"})
    assert response.status_code == 400
    assert error_of(response)["code"] == code


def test_unknown_method_is_method_not_found(api: _SyncASGI) -> None:
    response = api.post(json_body={"jsonrpc": "2.0", "id": 3, "method": "no/such"}, headers={"mcp-protocol-version": "2025-11-25"})
    assert error_of(response)["code"] == -32601
    assert response.json()["id"] == 3


def test_wrong_param_types_are_invalid_params(api: _SyncASGI) -> None:
    body = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 42}}
    response = api.post(json_body=body, headers={"mcp-protocol-version": "2025-11-25"})
    assert error_of(response)["code"] == -32602


def test_batches_are_served_at_2025_03_26(api: _SyncASGI) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 1}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "no/such"},
    ]
    response = api.post(json_body=batch, headers={"mcp-protocol-version": "2025-03-26"})
    assert response.status_code == 200
    answers = {item["id"]: item for item in response.json()}
    assert answers[1]["result"]["structuredContent"] == {"result": 2}
    assert answers[2]["error"]["code"] == -32601
    only_notes = api.post(json_body=[{"jsonrpc": "2.0", "method": "notifications/initialized"}], headers={"mcp-protocol-version": "2025-03-26"})
    assert only_notes.status_code == 202


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_batches_are_refused_after_2025_03_26(api: _SyncASGI, version: str) -> None:
    response = api.post(json_body=[{"jsonrpc": "2.0", "id": 1, "method": "ping"}], headers={"mcp-protocol-version": version})
    assert response.status_code == 400
    assert error_of(response)["code"] == -32600


def test_unknown_protocol_version_header_is_400(api: _SyncASGI) -> None:
    response = api.post(json_body={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"mcp-protocol-version": "2019-01-01"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == -32022
    assert error["data"] == {"supported": ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", MODERN], "requested": "2019-01-01"}


def test_handshake_back_channel_requests_fail_fast(fixture_api: _SyncASGI) -> None:
    started = time.monotonic()
    body = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "test_sampling", "arguments": {"prompt": "hi"}}}
    response = fixture_api.post(json_body=body, headers={"mcp-protocol-version": "2025-11-25"})
    error = error_of(response)
    assert error["code"] == -32600
    assert "back-channel" in error["message"]
    assert time.monotonic() - started < 5


def test_notifications_go_out_as_sse_only_when_emitted_and_accepted(fixture_api: _SyncASGI) -> None:
    body = {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "tok"}}}
    headers = {"mcp-protocol-version": "2025-11-25"}
    events = sse_events(fixture_api.post(json_body=body, headers=headers))
    assert [e.get("method") for e in events[:-1]] == ["notifications/progress"] * 3
    assert [e["params"]["progress"] for e in events[:-1]] == [0, 50, 100]
    assert events[-1]["id"] == 8 and "result" in events[-1]
    quiet = fixture_api.post(json_body={"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "test_simple_text", "arguments": {}}}, headers=headers)
    assert quiet.headers["content-type"] == "application/json"
    json_only = fixture_api.post(json_body=body, headers={**headers, "accept": "application/json"})
    assert json_only.headers["content-type"] == "application/json"
    assert json_only.json()["id"] == 8


def test_set_level_is_acknowledged(api: _SyncASGI) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "debug"}}
    assert api.post(json_body=body, headers={"mcp-protocol-version": "2025-11-25"}).json()["result"] == {}


# -- 2026-07-28 -------------------------------------------------------------------


def test_server_discover(api: _SyncASGI) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": META}}
    result = api.post(json_body=body, headers=modern_headers("server/discover")).json()["result"]
    assert result["supportedVersions"] == [MODERN]
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcp-lambda"
    assert "tools" in result["capabilities"]
    assert result["capabilities"]["tools"].get("listChanged") is False  # nothing can deliver it statelessly


def test_modern_tools_call_has_result_type_server_info_and_no_session(api: _SyncASGI) -> None:
    response = api.post(json_body=modern_call("add", {"a": 2, "b": 2}), headers=modern_headers("tools/call", "add"))
    result = response.json()["result"]
    assert result["structuredContent"] == {"result": 4}
    assert result["resultType"] == "complete"
    assert "io.modelcontextprotocol/serverInfo" in result["_meta"]
    assert "mcp-session-id" not in response.headers


@pytest.mark.parametrize("method", ["tools/list", "prompts/list", "resources/list", "resources/templates/list"])
def test_list_results_carry_caching_hints(api: _SyncASGI, method: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": META}}
    result = api.post(json_body=body, headers=modern_headers(method)).json()["result"]
    assert isinstance(result["ttlMs"], int) and result["ttlMs"] >= 0
    assert result["cacheScope"] in ("public", "private")


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"mcp-protocol-version": MODERN, "mcp-method": "tools/list", "mcp-name": "add"}, -32020),
        ({"mcp-protocol-version": MODERN, "mcp-name": "add"}, -32020),
        ({"mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "echo"}, -32020),
    ],
    ids=["method-mismatch", "method-missing", "name-mismatch"],
)
def test_header_body_disagreement_is_32020(api: _SyncASGI, headers: dict[str, str], expected: int) -> None:
    response = api.post(json_body=modern_call("add", {"a": 1, "b": 1}), headers=headers)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == expected
    assert response.json()["id"] == 1


def test_duplicated_routing_header_is_32020(api: _SyncASGI) -> None:
    app = create_asgi_app(build_server(), Settings())

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"https://{HOST}") as client:
            headers = [("content-type", "application/json"), ("accept", ACCEPT_BOTH), ("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-method", "tools/call"), ("mcp-name", "add")]
            return await client.post("/mcp", content=json.dumps(modern_call("add", {"a": 1, "b": 1})), headers=headers)

    response = asyncio.run(go())
    assert response.status_code == 400
    assert error_of(response)["code"] == -32020


def test_base64_encoded_name_header_is_decoded(api: _SyncASGI) -> None:
    import base64

    encoded = "=?base64?" + base64.b64encode(b"add").decode() + "?="
    response = api.post(json_body=modern_call("add", {"a": 1, "b": 1}), headers=modern_headers("tools/call", encoded))
    assert response.json()["result"]["structuredContent"] == {"result": 2}


def test_unsupported_modern_version_is_32022_with_supported_list(api: _SyncASGI) -> None:
    body = modern_call("add", {"a": 1, "b": 1})
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01"
    response = api.post(json_body=body, headers={"mcp-protocol-version": "2099-01-01", "mcp-method": "tools/call", "mcp-name": "add"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == -32022
    assert error["data"] == {"supported": [MODERN], "requested": "2099-01-01"}


def test_missing_envelope_is_invalid_params(api: _SyncASGI) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = api.post(json_body=body, headers=modern_headers("tools/list"))
    assert response.status_code == 400
    assert error_of(response)["code"] == -32602


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe", "no/such"])
def test_removed_and_unknown_methods_are_404_method_not_found(api: _SyncASGI, method: str) -> None:
    params: dict[str, Any] = {"_meta": META}
    if method == "logging/setLevel":
        params["level"] = "info"
    if method.startswith("resources/"):
        params["uri"] = "x://y"
    response = api.post(json_body={"jsonrpc": "2.0", "id": 11, "method": method, "params": params}, headers=modern_headers(method))
    assert response.status_code == 404
    assert error_of(response)["code"] == -32601
    assert response.json()["id"] == 11


def test_subscriptions_listen_is_refused_clearly(api: _SyncASGI) -> None:
    body = {"jsonrpc": "2.0", "id": 12, "method": "subscriptions/listen", "params": {"_meta": META, "notifications": {"toolsListChanged": True}}}
    response = api.post(json_body=body, headers=modern_headers("subscriptions/listen"))
    assert response.status_code == 404
    assert "cannot hold a stream open" in error_of(response)["message"]


def test_modern_notification_is_202_and_bad_version_notification_is_refused(api: _SyncASGI) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    assert api.post(json_body=note, headers={"mcp-protocol-version": MODERN}).status_code == 202
    refused = api.post(json_body=note, headers={"mcp-protocol-version": "2099-01-01"})
    assert refused.status_code == 400 and error_of(refused)["code"] == -32022


def test_modern_batch_is_refused(api: _SyncASGI) -> None:
    response = api.post(json_body=[modern_call("add", {"a": 1, "b": 1})], headers=modern_headers("tools/call", "add"))
    assert response.status_code == 400 and error_of(response)["code"] == -32600


def test_missing_capability_maps_to_400(fixture_api: _SyncASGI) -> None:
    response = fixture_api.post(json_body=modern_call("test_missing_capability", {}), headers=modern_headers("tools/call", "test_missing_capability"))
    assert response.status_code == 400
    assert error_of(response)["code"] == -32021


def test_mcp_param_header_must_match_argument(fixture_api: _SyncASGI) -> None:
    headers = modern_headers("tools/call", "test_x_mcp_header")
    ok = fixture_api.post(json_body=modern_call("test_x_mcp_header", {"region": "eu-west-1"}), headers={**headers, "mcp-param-region": "eu-west-1"})
    assert ok.json()["result"]["structuredContent"] == {"result": "region=eu-west-1"}
    missing = fixture_api.post(json_body=modern_call("test_x_mcp_header", {"region": "eu-west-1"}), headers=headers)
    assert missing.status_code == 400 and error_of(missing)["code"] == -32020
    wrong = fixture_api.post(json_body=modern_call("test_x_mcp_header", {"region": "eu-west-1"}), headers={**headers, "mcp-param-region": "us-east-1"})
    assert wrong.status_code == 400 and error_of(wrong)["code"] == -32020


def test_input_required_state_is_sealed_and_tampering_refused(fixture_api: _SyncASGI) -> None:
    name = "test_input_required_result_request_state"
    headers = modern_headers("tools/call", name)
    first = fixture_api.post(json_body=modern_call(name, {}), headers=headers).json()["result"]
    assert first["resultType"] == "input_required"
    sealed = first["requestState"]
    assert sealed != "request-state-nonce" and "request-state-nonce" not in sealed  # opaque, not the plaintext
    answer = {"confirm": {"action": "accept", "content": {"ok": True}}}
    retry = fixture_api.post(json_body=modern_call(name, {}, inputResponses=answer, requestState=sealed), headers=headers).json()["result"]
    assert retry["content"][0]["text"] == "state-ok: confirmation received"
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    refused = fixture_api.post(json_body=modern_call(name, {}, inputResponses=answer, requestState=tampered), headers=headers)
    assert refused.status_code == 400
    assert error_of(refused)["code"] == -32602


def test_input_required_state_opens_on_another_instance_with_the_same_key(fixture_api: _SyncASGI) -> None:
    """Two separately built apps (two Lambda instances) share the sealing key from configuration."""
    other = _client(create_asgi_app(build_fixture(), Settings()))
    name = "test_input_required_result_request_state"
    headers = modern_headers("tools/call", name)
    sealed = fixture_api.post(json_body=modern_call(name, {}), headers=headers).json()["result"]["requestState"]
    answer = {"confirm": {"action": "accept", "content": {"ok": True}}}
    retry = other.post(json_body=modern_call(name, {}, inputResponses=answer, requestState=sealed), headers=headers)
    assert retry.json()["result"]["content"][0]["text"] == "state-ok: confirmation received"


def test_modern_logs_only_when_requested(fixture_api: _SyncASGI) -> None:
    headers = modern_headers("tools/call", "test_tool_with_logging")
    silent = fixture_api.post(json_body=modern_call("test_tool_with_logging", {}), headers=headers)
    assert silent.headers["content-type"] == "application/json"
    body = modern_call("test_tool_with_logging", {})
    body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = "info"
    events = sse_events(fixture_api.post(json_body=body, headers=headers))
    assert [e.get("method") for e in events[:-1]] == ["notifications/message"] * 3


# -- deadline -------------------------------------------------------------------


def _slow_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("slow")

    @server.tool(description="Sleeps asynchronously.")
    async def nap(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "rested"

    @server.tool(description="Blocks its worker thread.")
    def block(seconds: float) -> str:
        time.sleep(seconds)
        return "done"

    return server


@pytest.mark.parametrize("tool", ["nap", "block"], ids=["async-tool", "blocking-sync-tool"])
def test_deadline_answers_with_an_error_in_time(tool: str) -> None:
    api = _client(create_asgi_app(_slow_server(), Settings(request_timeout_s=0.3)))
    started = time.monotonic()
    body = {"jsonrpc": "2.0", "id": 21, "method": "tools/call", "params": {"name": tool, "arguments": {"seconds": 2}}}
    response = api.post(json_body=body, headers={"mcp-protocol-version": "2025-11-25"})
    elapsed = time.monotonic() - started
    error = error_of(response)
    assert error["code"] == -32001
    assert response.json()["id"] == 21
    assert elapsed < 1.5, elapsed


# -- logs -----------------------------------------------------------------------


def test_client_mistakes_log_no_traceback(api: _SyncASGI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for body in (b"{bad", b"[]", b'"x"', b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":"x"}}}'):
        api.post(body, headers={"mcp-protocol-version": "2025-11-25"})
    api.post(json_body=modern_call("add", {"a": 1, "b": 1}), headers={"mcp-protocol-version": MODERN})
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

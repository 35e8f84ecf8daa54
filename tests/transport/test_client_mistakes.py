"""A client's mistake is a -32602 naming what was wrong, never a logged crash (issue 8, item 5).

Before: `prompts/get` of an unknown prompt or without a required argument
answered `-32603 Internal error` and logged an ERROR traceback, in both eras;
`completion/complete` of a prompt that does not exist answered an empty
completion. Every request here goes through the product's HTTP surface
(authentication included) in-process, in both eras, and each asserts the
code, that the message names the culprit, and that nothing was logged at
ERROR or with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth import protect
from app.main import build_product
from app.transport.asgi import create_asgi_app
from tests.rpc import mcp_request

DEV_KEY = "client-mistakes-dev-key-0123456789abcdef"
HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
ERAS = [HANDSHAKE, MODERN]
#: HTTP status of a -32602 per era (the modern era maps it to 400, spec 2026-07-28).
INVALID_STATUS = {HANDSHAKE: 200, MODERN: 400}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("mistakes")
    product = build_product({"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": str(Path(data) / "items.sqlite3")})
    # The product's own stack minus its log handler, so records reach caplog.
    return protect(create_asgi_app(product.server, product.settings), product.settings, product.auth)


def call(app: Any, era: str, method: str, params: dict[str, Any]) -> httpx.Response:
    headers, body = mcp_request(DEV_KEY, era, method, params, client_name="mistakes")

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post("/mcp", json=body, headers=headers)

    return asyncio.run(go())


@pytest.fixture
def no_crash_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not crashes, [(r.name, r.getMessage()) for r in crashes]


def invalid_params(response: httpx.Response, era: str) -> dict[str, Any]:
    assert response.status_code == INVALID_STATUS[era], response.text
    body = response.json()
    assert body["id"] == 7
    error = body["error"]
    assert error["code"] == -32602, error
    return error


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
def test_unknown_prompt_is_invalid_params_naming_it(app: Any, era: str) -> None:
    error = invalid_params(call(app, era, "prompts/get", {"name": "no_such_prompt"}), era)
    assert "no_such_prompt" in error["message"]
    assert error["data"] == {"name": "no_such_prompt"}


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
def test_prompt_without_required_argument_is_invalid_params_naming_it(app: Any, era: str) -> None:
    error = invalid_params(call(app, era, "prompts/get", {"name": "summarize_items", "arguments": {}}), era)
    assert "query" in error["message"] and "summarize_items" in error["message"]
    assert error["data"]["missing"] == ["query"]


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
def test_prompt_with_an_argument_it_does_not_take_is_invalid_params(app: Any, era: str) -> None:
    params = {"name": "summarize_items", "arguments": {"query": "x", "colour": "red"}}
    error = invalid_params(call(app, era, "prompts/get", params), era)
    assert "colour" in error["message"]


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
def test_prompt_with_a_good_argument_still_renders(app: Any, era: str) -> None:
    response = call(app, era, "prompts/get", {"name": "summarize_items", "arguments": {"query": "roadmap"}})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["messages"]


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("uri", ["nope://x", "items://no-such-item", "not a uri"])
def test_unreadable_resource_is_invalid_params_with_the_uri(app: Any, era: str, uri: str) -> None:
    error = invalid_params(call(app, era, "resources/read", {"uri": uri}), era)
    assert error["data"] == {"uri": uri}


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize(
    ("ref", "argument", "named"),
    [
        ({"type": "ref/prompt", "name": "no_such_prompt"}, "tag", "no_such_prompt"),
        ({"type": "ref/prompt", "name": "summarize_items"}, "colour", "colour"),
        ({"type": "ref/resource", "uri": "nope://{id}"}, "id", "nope://{id}"),
    ],
    ids=["unknown-prompt", "unknown-argument", "unknown-template"],
)
def test_completion_of_an_unknown_ref_is_invalid_params(app: Any, era: str, ref: dict[str, Any], argument: str, named: str) -> None:
    params = {"ref": ref, "argument": {"name": argument, "value": "a"}}
    error = invalid_params(call(app, era, "completion/complete", params), era)
    assert named in error["message"]


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
def test_completion_of_a_known_ref_still_answers(app: Any, era: str) -> None:
    params = {"ref": {"type": "ref/resource", "uri": "items://{id}"}, "argument": {"name": "id", "value": ""}}
    response = call(app, era, "completion/complete", params)
    assert response.status_code == 200, response.text
    assert "values" in response.json()["result"]["completion"]


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("tools/call", {"name": "echo", "arguments": "not an object"}, "arguments"),
        ("tools/call", {"arguments": {}}, "name"),
        ("prompts/get", {"name": "summarize_items", "arguments": {"query": 5}}, "query"),
        ("resources/read", {}, "uri"),
        ("resources/templates/list", {"cursor": 5}, "cursor"),
        ("tools/list", {"cursor": ["x"]}, "cursor"),
        ("completion/complete", {"ref": {"type": "ref/bogus"}, "argument": {"name": "a", "value": ""}}, "ref"),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "summarize_items"}}, "argument"),
    ],
)
def test_malformed_params_are_invalid_params_naming_the_field(app: Any, era: str, method: str, params: dict[str, Any], field: str) -> None:
    error = invalid_params(call(app, era, method, params), era)
    assert field in error["message"], error


@pytest.mark.usefixtures("no_crash_logged")
def test_set_level_with_a_bad_level_is_invalid_params_naming_it(app: Any) -> None:
    # logging/setLevel exists only in the handshake era (removed at 2026-07-28: -32601).
    error = invalid_params(call(app, HANDSHAKE, "logging/setLevel", {"level": "loud"}), HANDSHAKE)
    assert "level" in error["message"]


@pytest.mark.usefixtures("no_crash_logged")
@pytest.mark.parametrize("era", ERAS)
def test_error_echo_of_a_huge_name_is_capped(app: Any, era: str) -> None:
    name = "p" * 100_000
    error = invalid_params(call(app, era, "prompts/get", {"name": name}), era)
    assert len(error["message"]) < 300 and len(error["data"]["name"]) < 300


def test_a_prompt_that_really_crashes_is_still_an_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    """The guard must not hide server bugs: a prompt function's own failure stays -32603, logged."""
    from mcp.server.mcpserver import MCPServer

    from app import Settings

    server: MCPServer[Any] = MCPServer("crashy")

    @server.prompt()
    def broken(topic: str) -> str:
        raise RuntimeError("bug in the prompt")

    @server.prompt()
    def counted(n: int) -> str:
        return "ok" * n

    app = create_asgi_app(server, Settings())
    caplog.set_level(logging.INFO)
    response = call(app, HANDSHAKE, "prompts/get", {"name": "broken", "arguments": {"topic": "x"}})
    assert response.json()["error"]["code"] == -32603
    assert any(r.levelno >= logging.ERROR and r.exc_info for r in caplog.records)
    # ...while an argument its function refuses (validate_call) is the caller's mistake.
    caplog.clear()
    response = call(app, HANDSHAKE, "prompts/get", {"name": "counted", "arguments": {"n": "three"}})
    error = response.json()["error"]
    assert error["code"] == -32602 and "n" in error["data"]["invalid"], error
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]

"""Quotas through the product: the MCP Python SDK client over loopback HTTP in both protocol eras, raw
2026-07-28 task creation, and the Lambda handler (with the QuotaRefusals EMF document it prints).

A principal over its limit gets an `isError` tool result naming the limit, when it resets and how long to
wait (`_meta["io.github.mcp-lambda/quota"]`); another principal is unaffected; nothing is a 500.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from app.core.events import FakeLambdaContext
from app.observability import ObservabilitySettings
from app.quotas.guard import META_KEY
from bench.events import modern_tools_call_event, response_message, tools_call_event
from tests.auth.support import new_key, ring_json
from tests.conftest import LiveServer, serve
from tests.rpc import mcp_request, result_of

MODERN = "2026-07-28"
TASKS = "io.modelcontextprotocol/tasks"
ALL_SCOPES = ["items:read", "items:write"]
# A day-long window: the counters cannot roll over in the middle of a test.
LIMITS = {"MCP_QUOTA_WINDOW_S": "86400", "MCP_QUOTA_TOOL_CALLS": "3", "MCP_QUOTA_TOOL_OVERRIDES": "items_export=1"}


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {name: new_key() for name in ("legacy", "modern", "other", "tasks", "capped", "lambda")}


def _env(tmp: Path, keys: dict[str, Any], **extra: str) -> dict[str, str]:
    ring = tmp / "ring.json"
    ring.write_text(ring_json(*((key, {"name": name, "scopes": ALL_SCOPES}) for name, key in keys.items())), encoding="utf-8")
    return {
        "MCP_API_KEYS_FILE": str(ring),
        "ITEMS_SQLITE_PATH": str(tmp / "items.sqlite3"),
        "MCP_ALLOWED_HOSTS": "127.0.0.1,localhost",
        **LIMITS,
        **extra,
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Any]) -> Iterator[LiveServer]:
    from app.main import build_product

    with serve(build_product(_env(tmp_path_factory.mktemp("quotas"), keys)).asgi_app()) as server:
        yield server


@pytest.fixture(scope="module")
def no_working_slots(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Any]) -> Iterator[LiveServer]:
    from app.main import build_product

    env = _env(tmp_path_factory.mktemp("quotas-cap"), keys, MCP_QUOTA_WORKING_TASKS="0")
    with serve(build_product(env).asgi_app()) as server:
        yield server


def client(url: str, key: str, mode: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode=mode)


@pytest.mark.anyio
@pytest.mark.parametrize(("mode", "who"), [("legacy", "legacy"), ("auto", "modern")], ids=["handshake-era", "2026-07-28"])
async def test_over_the_limit_the_sdk_client_gets_an_actionable_tool_error(
    live: LiveServer, keys: dict[str, Any], mode: str, who: str
) -> None:
    async with client(live.url, keys[who].key, mode) as session:
        for n in range(3):
            assert (await session.call_tool("add", {"a": n, "b": 1})).is_error is False
        refused = await session.call_tool("add", {"a": 1, "b": 1})
    assert refused.is_error is True
    text = refused.content[0].text  # type: ignore[union-attr]
    assert text.startswith("quota exceeded: tool calls per window (limit 3); retry after ")
    data = (refused.meta or {})[META_KEY]
    assert data["quota"] == "tool_calls" and data["limit"] == 3
    assert data["retry_after_s"] >= 1 and data["resets_at"].endswith("Z")
    async with client(live.url, keys["other"].key, mode) as session:  # another principal is unaffected
        assert (await session.call_tool("add", {"a": 1, "b": 1})).structured_content == {"result": 2}


def _task_call(url: str, key: str) -> httpx.Response:
    headers, body = mcp_request(
        key, MODERN, "tools/call", {"name": "items_export", "arguments": {}}, capabilities={"extensions": {TASKS: {}}}
    )
    return httpx.post(url, json=body, headers=headers, timeout=30)


def _task(url: str, key: str, task_id: str) -> dict[str, Any]:
    headers, body = mcp_request(
        key, MODERN, "tasks/get", {"taskId": task_id}, capabilities={"extensions": {TASKS: {}}}, mcp_name=task_id
    )
    return result_of(httpx.post(url, json=body, headers=headers, timeout=30))


def test_task_creation_counts_against_the_tools_own_override(live: LiveServer, keys: dict[str, Any]) -> None:
    created = result_of(_task_call(live.url, keys["tasks"].key))
    assert created["resultType"] == "task"
    for _ in range(300):  # polling as a client does; the bound is a hang guard
        task = _task(live.url, keys["tasks"].key, created["taskId"])
        if task["status"] not in ("working", "input_required"):
            break
        time.sleep(0.05)
    # The run replays tools/call through the same chain: not counted (or refused) a second time.
    assert task["status"] == "completed" and task["result"].get("isError") is not True, task
    refused = result_of(_task_call(live.url, keys["tasks"].key))
    assert refused["isError"] is True and refused["_meta"][META_KEY]["tool"] == "items_export"
    assert "tool calls per window for items_export (limit 1)" in refused["content"][0]["text"]


def test_working_task_cap_refuses_task_creation_but_not_plain_calls(
    no_working_slots: LiveServer, keys: dict[str, Any]
) -> None:
    response = _task_call(no_working_slots.url, keys["capped"].key)
    refused = result_of(response)  # HTTP 200: a tool error, never a 500
    assert refused["isError"] is True
    assert refused["_meta"][META_KEY]["quota"] == "working_tasks"
    assert refused["content"][0]["text"].startswith("quota exceeded: tasks working at once (limit 0)")
    headers, body = mcp_request(keys["capped"].key, MODERN, "tools/call", {"name": "echo", "arguments": {"text": "hi"}})
    assert result_of(httpx.post(no_working_slots.url, json=body, headers=headers, timeout=30))["isError"] is False


def test_lambda_handler_refuses_in_both_eras_and_counts_quota_refusals(
    tmp_path: Path, keys: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from app.main import build_product

    env = _env(tmp_path, keys)
    del env["MCP_ALLOWED_HOSTS"]  # the committed events' Host
    # Metrics as on Lambda (where they are on by default), without pretending to be on Lambda.
    product = build_product(env, observability=replace(ObservabilitySettings.from_env(env), metrics=True))
    handler = product.lambda_build().handler
    auth = {"authorization": f"Bearer {keys['lambda'].key}"}
    answers = []
    for n in range(5):
        event = (tools_call_event if n % 2 else modern_tools_call_event)("echo", {"text": "x"}, auth)
        status, message, _ = response_message(handler(event, FakeLambdaContext()))
        answers.append((status, message["result"]["isError"] if message else None))  # type: ignore[index]
    assert answers == [(200, False)] * 3 + [(200, True)] * 2
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    quota_docs = [d for d in emitted if "QuotaRefusals" in d]
    dims = quota_docs[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert dims == [["service", "method", "tool"], ["service", "method"]]
    requests = next(d for d in emitted if "Requests" in d and d.get("tool") == "echo")
    assert requests["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == dims  # the alarm sees the same dimensions
    assert (quota_docs[0]["service"], quota_docs[0]["method"], quota_docs[0]["tool"]) == ("mcp-lambda", "tools/call", "echo")
    assert sum(d["QuotaRefusals"][0] for d in quota_docs) == 2

"""FastMCP's client (with `fastmcp-tasks`, which speaks SEP-2663) drives tasks over loopback HTTP at 2026-07-28.

Against the live local product (API key): `items_export` runs as a task, polled with `tasks/get` until
`completed` with the export inline, progress seen on the way; the same tool through FastMCP's ordinary
`call_tool` (the client resolves the task by itself, as an agent would use it). Against the conformance
fixture server: a long `slow_compute` task is cancelled and reads `cancelled`.

The client runs as released: fastmcp-tasks 4.1.x sends no `Mcp-Name` on `tasks/get` / `tasks/cancel` (its
request types declare no `name_param`), and nothing here adds one; the server takes the body as the source of
truth and refuses only a header that disagrees (checked last, with the raw request FastMCP would send).
The only hook is an `httpx2.Auth` (the transport's public hook) carrying the API key.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from fastmcp_tasks import call_tool_task

from mcp_types import HEADER_MISMATCH

from app.core.events import MODERN_VERSION
from app.items.config import ItemStoreSettings
from app.items.factory import build_item_service
from app.core.principal import Principal
from app.tasks.extension import PROGRESS_META_KEY
from tests.auth.support import new_key, ring_json
from tests.rpc import mcp_request
from tests.conftest import LiveServer, serve

pytestmark = pytest.mark.anyio

ITEMS = 400


class ApiKey(httpx2.Auth):
    """Carries the API key; adds nothing else (no `Mcp-Name`: the released client sends none on tasks/*)."""

    def __init__(self, api_key: str | None = None) -> None:
        self._key = api_key

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        if self._key is not None:
            request.headers["Authorization"] = f"Bearer {self._key}"
        yield request


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """The product with a reader key whose store holds ITEMS items, heartbeats frequent enough to see progress."""
    from app.main import build_product

    tmp: Path = tmp_path_factory.mktemp("tasks-fastmcp")
    key = new_key()
    (tmp / "ring.json").write_text(ring_json((key, {"name": "exporter", "scopes": ["items:read"]})), encoding="utf-8")
    items_path = tmp / "items.sqlite3"
    # Seed the reader's store directly: the data is the precondition, not what is under test.
    seeder = build_item_service(ItemStoreSettings(sqlite_path=items_path))
    owner = Principal(id=key.key_id, kind="api_key", name="exporter", scopes=frozenset({"items:read"}))
    for n in range(ITEMS):
        seeder.add(owner, f"item {n:03d}", body="x" * 200, tags=["seed"])
    env = {
        "MCP_API_KEYS_FILE": str(tmp / "ring.json"),
        "ITEMS_SQLITE_PATH": str(items_path),
        "MCP_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TASKS_HEARTBEAT_S": "0.02",
        "TASKS_LEASE_S": "10",
    }
    with serve(build_product(env).asgi_app()) as live:
        yield live, key.key


def client_for(url: str, api_key: str | None = None) -> Client:
    return Client(StreamableHttpTransport(url, auth=ApiKey(api_key)))


async def test_items_export_runs_as_a_task_to_completion_with_progress_and_the_result_inline(
    product: tuple[LiveServer, str],
) -> None:
    live, key = product
    async with client_for(live.url, key) as client:
        task = await call_tool_task(client, "items_export", {"page_size": 1})
        created = task.create_result
        assert created.status == "working" and created.poll_interval_ms and created.ttl_ms
        seen: list[Any] = []
        while True:  # poll as an agent does (faster than pollIntervalMs, to watch progress)
            current = await task.status()
            seen.append(current)
            if current.status != "working":
                break
            await anyio.sleep(0.01)
        final = seen[-1]
        assert final.status == "completed", final
        # The tool's own result, inline in tasks/get: summary and the embedded export document.
        assert final.result["structuredContent"] == {
            "count": ITEMS, "total": ITEMS, "truncated": False, "uri": "items://export.json"
        }
        document = json.loads(final.result["content"][1]["resource"]["text"])
        assert sorted(i["title"] for i in document["items"]) == [f"item {n:03d}" for n in range(ITEMS)]
        # Progress as an agent sees it while it runs: "done/total: message", also structured in _meta.
        progress = [
            (s.meta or {}).get(PROGRESS_META_KEY) for s in seen[:-1] if (s.meta or {}).get(PROGRESS_META_KEY)
        ]
        # ITEMS one-item pages against 20 ms heartbeats and ~10 ms polls: the export is seen part-way.
        assert progress, [s.status_message for s in seen]
        done = [p["progress"] for p in progress]
        assert done == sorted(done) and all(0 < d <= ITEMS and p["total"] == ITEMS for d, p in zip(done, progress))
        messages = [s.status_message for s in seen[:-1] if (s.meta or {}).get(PROGRESS_META_KEY)]
        assert all(m.startswith(f"{int(p['progress'])}/{ITEMS}: exported ") for m, p in zip(messages, progress))
        # The handle's own driver gives the parsed result too.
        result = await task.result()
        assert result.structured_content["count"] == ITEMS


async def test_plain_call_tool_is_resolved_through_the_task_by_the_client(product: tuple[LiveServer, str]) -> None:
    live, key = product
    async with client_for(live.url, key) as client:
        result = await client.call_tool("items_export", {"page_size": 100})
    assert result.is_error is False
    assert result.structured_content["count"] == ITEMS


async def test_a_slow_task_is_cancelled_and_reads_cancelled(fixture_server: LiveServer) -> None:
    async with client_for(fixture_server.url) as client:
        task = await call_tool_task(client, "slow_compute", {"seconds": 120, "label": "to cancel"})
        assert (await task.status()).status == "working"
        await task.cancel()
        assert (await task.status()).status == "cancelled"
        await task.cancel()  # idempotent on a terminal task
        assert (await task.status()).status == "cancelled"
        # Another task on the same connection is untouched and completes.
        other = await call_tool_task(client, "slow_compute", {"seconds": 0, "label": "kept"})
        finished = await other.wait(timeout=60)
        assert finished.status == "completed"
        assert finished.result["content"][0]["text"] == "computed kept after 0s"


async def test_a_header_that_disagrees_with_the_body_is_refused_naming_both(product: tuple[LiveServer, str]) -> None:
    """The released client sends no Mcp-Name (accepted above); one that contradicts params.taskId is still -32020."""
    live, key = product
    async with client_for(live.url, key) as client:
        task = await call_tool_task(client, "items_export", {"page_size": 100})
        task_id = task.create_result.task_id
    headers, body = mcp_request(
        key, MODERN_VERSION, "tasks/get", {"taskId": task_id},
        capabilities={"extensions": {"io.modelcontextprotocol/tasks": {}}}, mcp_name="another-task",
    )
    response = httpx2.post(live.url, json=body, headers=headers, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == HEADER_MISMATCH
    assert error["message"] == f"Mcp-Name header 'another-task' does not match params.taskId {task_id!r}"

"""FastMCP's client (with `fastmcp-tasks`, which speaks SEP-2663) drives tasks over loopback HTTP at 2026-07-28.

Against the live local product (API key): `items_export` runs as a task, polled with `tasks/get` until
`completed` with the export inline, progress seen on the way; the same tool through FastMCP's ordinary
`call_tool` (the client resolves the task by itself, as an agent would use it). Against the conformance
fixture server: a long `slow_compute` task is cancelled and reads `cancelled`.

One client-side shim, in `TaskRouting`: SEP-2663 requires `Mcp-Name: <taskId>` on `tasks/get`,
`tasks/update` and `tasks/cancel` (missing or mismatched is `-32020`, HTTP 400: the conformance scenario
`tasks-request-headers` checks exactly that), and fastmcp-tasks 4.1.4 does not send it: its request types
declare no `name_param`, so the MCP SDK's session adds no header. The shim is an `httpx2.Auth` (the
transport's public hook) that also carries the API key.
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

from app.items.config import ItemStoreSettings
from app.items.factory import build_item_service
from app.core.principal import Principal
from app.tasks.extension import PROGRESS_META_KEY
from tests.auth.support import new_key, ring_json
from tests.conftest import LiveServer, serve

pytestmark = pytest.mark.anyio

ITEMS = 400


class TaskRouting(httpx2.Auth):
    """Adds the API key, and `Mcp-Name: <taskId>` to tasks/* requests (which fastmcp-tasks 4.1.4 omits)."""

    requires_request_body = True

    def __init__(self, api_key: str | None = None) -> None:
        self._key = api_key

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        if self._key is not None:
            request.headers["Authorization"] = f"Bearer {self._key}"
        body = json.loads(request.content or b"null")
        if isinstance(body, dict) and str(body.get("method", "")).startswith("tasks/"):
            task_id = (body.get("params") or {}).get("taskId")
            if isinstance(task_id, str):
                request.headers["Mcp-Name"] = task_id
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
    return Client(StreamableHttpTransport(url, auth=TaskRouting(api_key)))


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

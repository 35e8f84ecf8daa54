"""The item board in a real browser: Debian's headless chromium (driven by playwright-core,
nothing downloaded) opens a tiny MCP Apps host page on 127.0.0.1 that renders ui://items/board
through the ext-apps AppBridge, against the protected local app (`make run`'s), in both eras.

The host page's MCP client talks to /mcp on the host's own origin, where this test's host
backend adds the API key and forwards to the server: the key stays in the host, as in Claude.
Screenshots land in .artifacts/ (gitignored)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tests.conftest import DEV_KEY, LiveServer, serve
from tests.views.conftest import client

ROOT = Path(__file__).resolve().parents[2]
HOST_SRC = Path(__file__).resolve().parent / "board_host"
NODE = ROOT / "tests" / "js" / "node_modules" / ".bin" / "node"
PACKAGES = ROOT / "views" / "board" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".artifacts"
TIMEOUT_S = 180

#: Request headers the host backend passes on; it adds Authorization itself.
FORWARDED = {"content-type", "accept", "last-event-id"}
#: Response headers it passes back.
RETURNED = {"content-type", "allow", "www-authenticate", "retry-after"}


def _require_tools() -> None:
    missing = [str(p) for p in (NODE, PACKAGES / "playwright-core", PACKAGES / "esbuild", CHROMIUM) if not p.exists()]
    if missing:
        pytest.fail(f"browser test tools missing: {', '.join(missing)}; `make test` installs them (make board-deps chromium)")


def host_app(static: Path, upstream: str) -> Starlette:
    """The host's backend: serves the host page and forwards its MCP traffic with the key."""
    http = httpx2.AsyncClient(timeout=30)

    async def page(request: Request) -> Response:
        return FileResponse(static / "index.html")

    async def script(request: Request) -> Response:
        return FileResponse(static / "host.js", media_type="text/javascript")

    async def mcp(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED or k.startswith("mcp-")}
        headers["authorization"] = f"Bearer {DEV_KEY}"
        answer = await http.request(request.method, upstream, content=await request.body(), headers=headers)
        back = {k: v for k, v in answer.headers.items() if k.lower() in RETURNED or k.lower().startswith("mcp-")}
        return Response(answer.content, status_code=answer.status_code, headers=back)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/host.js", script),
            Route("/favicon.ico", no_icon),
            Route("/mcp", mcp, methods=["GET", "POST", "DELETE"]),
        ]
    )


@pytest.fixture(scope="module")
def host(local_product: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_tools()
    static = tmp_path_factory.mktemp("host")
    bundled = subprocess.run(
        [str(NODE), str(HOST_SRC / "bundle.mjs"), str(static)], capture_output=True, text=True, timeout=120, check=False
    )
    assert bundled.returncode == 0, bundled.stderr
    with serve(host_app(static, local_product.url)) as live:
        yield live.url.removesuffix("/mcp")


async def _call(url: str, mode: str, name: str, args: dict[str, Any]) -> Any:
    async with client(url, mode, apps=False) as session:
        return await session.call_tool(name, args)


def call(url: str, name: str, args: dict[str, Any]) -> Any:
    return anyio.run(_call, url, "auto", name, args)


@pytest.mark.parametrize("era", ["handshake", "modern"])
def test_board_lists_edits_conflicts_adds_and_deletes_in_chromium(
    local_product: LiveServer, host: str, era: str, tmp_path: Path
) -> None:
    url = local_product.url
    made = {
        name: call(url, "items_add", {"title": f"{name} ({era})", "body": f"{name} body", "tags": tags}).structured_content[
            "item"
        ]
        for name, tags in [("Roadmap", ["work"]), ("Groceries", ["home"]), ("Old draft", ["work", "drafts"])]
    }
    ARTIFACTS.mkdir(exist_ok=True)
    plan = {
        "hostUrl": host,
        "chromium": str(CHROMIUM),
        "userDataDir": str(tmp_path / "profile"),  # fresh profile every run
        "artifacts": str(ARTIFACTS),
        "era": era,
        "edit": {"id": made["Roadmap"]["id"], "newBody": f"Edited in the board ({era})"},
        "conflict": {
            "id": made["Groceries"]["id"],
            "theirTitle": f"Groceries, changed by another agent ({era})",
            "boardTitle": f"Groceries, the board's stale edit ({era})",
        },
        "add": {"title": f"Added in the board ({era})", "body": "from the page", "tags": "board, ui"},
        "remove": {"id": made["Old draft"]["id"]},
    }
    proc = subprocess.run(
        [str(NODE), str(HOST_SRC / "drive.mjs"), json.dumps(plan)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    seen = json.loads(proc.stdout.strip().splitlines()[-1])

    # The host spoke the era asked for.
    assert (seen["hostVersion"] == "2026-07-28") is (era == "modern")
    # The board lists the items created through the API, and filters by tag.
    assert {f"{name} ({era})" for name in made} <= set(seen["listed"])
    assert f"Roadmap ({era})" in seen["filtered"] and f"Groceries ({era})" not in seen["filtered"]
    assert seen["openedBody"] == "Roadmap body"
    # An edit made in the page is what a later items_get reads.
    assert "version 2" in seen["savedStatus"]
    edited = call(url, "items_get", {"id": made["Roadmap"]["id"]}).structured_content
    assert edited["body"] == f"Edited in the board ({era})" and edited["version"] == 2
    # A conflicting edit shows the tool's own message, and writes nothing.
    assert seen["otherAgentVersion"] == 2
    assert "changed by someone else" in seen["conflictMessage"]
    assert "version 2, not version 1" in seen["conflictMessage"]
    groceries = call(url, "items_get", {"id": made["Groceries"]["id"]}).structured_content
    assert groceries["title"] == f"Groceries, changed by another agent ({era})"
    # Add and delete (after a confirmation) went through the host too.
    found = call(url, "items_search", {"text": f"Added in the board ({era})"}).structured_content["items"]
    assert [(i["title"], i["tags"]) for i in found] == [(f"Added in the board ({era})", ["board", "ui"])]
    assert seen["confirmShownBeforeDelete"] is False
    assert "Delete “Old draft" in seen["confirmText"]
    assert f"Old draft ({era})" not in seen["rowsAfterDelete"]
    gone = call(url, "items_get", {"id": made["Old draft"]["id"]})
    assert gone.is_error is True and "not found" in gone.content[0].text
    # The view made no request of its own, and broke no rule of its CSP (connect-src 'none').
    assert seen["frameRequests"] == []
    assert seen["cspMessages"] == []
    assert seen["pageErrors"] == []
    assert (ARTIFACTS / f"board-{era}.png").stat().st_size > 0

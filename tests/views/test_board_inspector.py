"""The MCP Inspector CLI's app report (`--app-info`) on the item tools: it finds the board, its
CSP and its permissions, the way a developer checks a server before connecting a host."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.views import BOARD_URI
from tests.conftest import DEV_KEY, LiveServer

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "tests" / "js" / "node_modules" / ".bin" / "node"
#: The pinned Inspector that `make inspector` runs (tools/inspector, installed by `make inspector-deps`).
INSPECTOR = ROOT / "tools" / "inspector" / "node_modules" / "@modelcontextprotocol" / "inspector" / "clients" / "launcher" / "build" / "index.js"
EXIT_NO_APP = 2  # the Inspector's exit code for "this tool has no app"


def inspect(url: str, *args: str) -> tuple[int, list[dict[str, Any]]]:
    if not NODE.exists() or not INSPECTOR.exists():
        pytest.fail(f"the Inspector CLI is not installed ({INSPECTOR}); `make inspector-deps` installs it (make test does)")
    cmd = [str(NODE), str(INSPECTOR), "--cli", url, "--transport", "http", "--header", f"Authorization: Bearer {DEV_KEY}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"no report from {' '.join(cmd[2:4])}: {proc.stderr[-2000:]}"
    return proc.returncode, lines


BOARD_REPORT = {
    "hasApp": True,
    "resourceUri": BOARD_URI,
    "resourceMimeType": "text/html;profile=mcp-app",
    "csp": {"connectDomains": [], "resourceDomains": []},
    "permissions": {},
    "prefersBorder": True,
}


@pytest.mark.parametrize("advertise", [True, False], ids=["host-declares-apps", "plain-client"])
def test_inspector_app_info_finds_the_board_its_csp_and_permissions(local_product: LiveServer, advertise: bool) -> None:
    flags = ["--advertise-apps"] if advertise else []
    code, [report] = inspect(local_product.url, "--method", "tools/call", "--tool-name", "items_list", "--app-info", *flags)
    assert code == 0
    assert report == {"toolName": "items_list", **BOARD_REPORT}


def test_inspector_app_info_over_every_tool(local_product: LiveServer) -> None:
    code, reports = inspect(local_product.url, "--method", "tools/list", "--app-info", "--advertise-apps")
    assert code == 0
    by_tool = {r["toolName"]: r for r in reports}
    assert {name for name, r in by_tool.items() if r["hasApp"]} == {"items_list", "items_search", "items_get"}
    assert by_tool["items_get"] == {"toolName": "items_get", **BOARD_REPORT}
    assert by_tool["items_update"] == {"hasApp": False, "toolName": "items_update"}


def test_inspector_says_a_tool_without_a_view_has_no_app(local_product: LiveServer) -> None:
    code, [report] = inspect(local_product.url, "--method", "tools/call", "--tool-name", "items_delete", "--app-info")
    assert code == EXIT_NO_APP
    assert report == {"hasApp": False, "toolName": "items_delete"}

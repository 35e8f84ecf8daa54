"""The product over stdio, driven by the MCP Python SDK's stdio client (issue 8, item 12).

The client spawns `python -m app.dev.stdio` the way the README's Claude
Desktop snippet does: from another working directory, with PYTHONPATH naming
the repository. The server's stdout is the protocol; its stderr (logs) is
kept in a file and read back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.anyio


def spawn(tmp_path: Path, items: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.dev.stdio"],
        env={"PYTHONPATH": str(ROOT), "ITEMS_SQLITE_PATH": str(items)},
        cwd=tmp_path,
    )


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_stdio_client_lists_tools_calls_echo_and_keeps_an_item(tmp_path: Path, mode: str) -> None:
    items = tmp_path / "items.sqlite3"
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as errlog:
        async with Client(stdio_client(spawn(tmp_path, items), errlog=errlog), mode=mode) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert {"echo", "add", "items_add", "items_get"} <= tools
            echoed = await client.call_tool("echo", {"text": "over stdio"})
            assert echoed.is_error is False and echoed.content[0].text == "over stdio"
            added = await client.call_tool("items_add", {"title": "from the desktop", "body": "stdio works"})
            assert added.is_error is False, added.content
            item: dict[str, Any] = added.structured_content["item"]
            got = await client.call_tool("items_get", {"id": item["id"]})
            assert got.is_error is False, got.content
            assert got.structured_content["title"] == "from the desktop"
            usage = await client.read_resource("items://me/usage")
    principal = json.loads(usage.contents[0].text)["principal"]
    assert principal["kind"] == "local"
    assert items.exists(), "items live in the local SQLite file"
    logs = stderr_path.read_text()
    assert "app.access" in logs and "tools/call" in logs, "logs go to stderr"


async def test_stdio_items_persist_across_processes(tmp_path: Path) -> None:
    """Same file, same principal: a desktop client restarted finds what it stored."""
    items = tmp_path / "items.sqlite3"
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(spawn(tmp_path, items), errlog=errlog), mode="legacy") as client:
            added = await client.call_tool("items_add", {"title": "kept", "body": "across restarts"})
            item_id = added.structured_content["item"]["id"]
        async with Client(stdio_client(spawn(tmp_path, items), errlog=errlog), mode="legacy") as client:
            got = await client.call_tool("items_get", {"id": item_id})
    assert got.is_error is False and got.structured_content["body"] == "across restarts"


async def test_stdio_unknown_prompt_is_invalid_params(tmp_path: Path) -> None:
    from mcp.shared.exceptions import MCPError

    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(spawn(tmp_path, tmp_path / "i.sqlite3"), errlog=errlog), mode="legacy") as client:
            with pytest.raises(MCPError) as raised:
                await client.get_prompt("no_such_prompt", {})
    assert raised.value.error.code == -32602 and "no_such_prompt" in raised.value.error.message
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()


def test_make_stdio_keeps_stdout_for_the_protocol(tmp_path: Path) -> None:
    """`make stdio` itself prints nothing on stdout: the first byte a client reads is the server's answer."""
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    result = subprocess.run(
        ["make", "stdio"],
        cwd=ROOT,
        input=json.dumps(request) + "\n",
        env={**os.environ, "ITEMS_SQLITE_PATH": str(tmp_path / "i.sqlite3")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert lines, result.stderr
    assert json.loads(lines[0])["result"]["serverInfo"]["name"] == "mcp-lambda"
    assert all(json.loads(line) for line in lines)


async def test_readme_claude_desktop_snippet_starts_the_server(tmp_path: Path) -> None:
    """The docs' stdio snippet (docs/clients.md), with its placeholder filled in, is what a desktop client can spawn."""
    readme = (ROOT / "docs" / "clients.md").read_text()
    section = readme.split("## stdio for desktop clients", 1)[1]
    config = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    (entry,) = config["mcpServers"].values()
    filled = json.loads(json.dumps(entry).replace("/ABSOLUTE/PATH/TO/mcp-lambda", str(ROOT)))
    assert filled["command"] == str(ROOT / ".venv" / "bin" / "python")
    params = StdioServerParameters(
        command=filled["command"],
        args=filled["args"],
        # The test's own item file; everything else exactly as the snippet says.
        env={**filled["env"], "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")},
        cwd=tmp_path,
    )
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            echoed = await client.call_tool("echo", {"text": "desktop"})
    assert echoed.content[0].text == "desktop"

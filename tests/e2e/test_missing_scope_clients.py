"""A key without a tool's scope reads as "tool X needs scope Y" in every client (issue 17, item 3).

API-key mode answers a per-tool scope refusal with a plain JSON-RPC error (-32051) in a 200 and no
OAuth step-up challenge: a key cannot be stepped up, and mcp-remote and the Inspector answer a 403
`insufficient_scope` challenge by starting an OAuth authorization (a registration error is all the
user then saw). OAuth mode keeps the challenge (tests/auth/test_tool_scopes.py).

Real clients over loopback against the product as `make run` serves it, with a read-only key:
the MCP Python SDK client (both eras) and mcp-remote (as Claude Desktop starts it) show the server's
words; the Inspector CLI checks tools/list first, where the key's filtered list lacks the tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import LiveServer, local_environ, serve_local_product

from .test_wrong_key_clients import BOUND_S, INITIALIZE, INSPECTOR, MCP_REMOTE, NODE, _env, _mcp_remote, read_answers

READER = "read-only-key-for-the-scope-tests"
SAYS = "tool items_add needs scope items:write"


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    for tool in (NODE, MCP_REMOTE, INSPECTOR):
        if not tool.exists():
            pytest.fail(f"{tool} is missing: `make test` installs it (targets node and inspector-deps)")
    environ = local_environ(tmp_path_factory.mktemp("scopes"), READER, MCP_DEV_API_KEY_SCOPES="items:read")
    with serve_local_product(environ) as live:
        yield live


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
async def test_python_sdk_client_says_which_scope(reader: LiveServer, mode: str) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {READER}"}, timeout=30)
    async with Client(streamable_http_client(reader.url, http_client=http), mode=mode) as client:
        listed = await client.call_tool("items_list", {})
        assert listed.is_error is False
        with pytest.raises(MCPError) as refused:
            await client.call_tool("items_add", {"title": "nope"})
    assert SAYS in str(refused.value), str(refused.value)


def test_mcp_remote_says_which_scope(reader: LiveServer, tmp_path: Path) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "items_add", "arguments": {"title": "x"}}}
    proc = _mcp_remote(reader.url, READER, tmp_path,
                       [INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"}, call])  # fmt: skip
    answers, err = read_answers(proc, until_id=1)
    assert 1 in answers, err[-3000:]
    assert SAYS in answers[1]["error"]["message"], answers[1]
    assert "Registration" not in err, err[-3000:]  # no OAuth registration attempted


def test_inspector_cli_says_which_scope(reader: LiveServer, tmp_path: Path) -> None:
    import subprocess

    cmd = [str(NODE), str(INSPECTOR), "--cli", reader.url, "--transport", "http",
           "--header", f"Authorization: Bearer {READER}", "--method", "tools/call",
           "--tool-name", "items_add", "--tool-arg", "title=x"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=BOUND_S, check=False)  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    # The Inspector looks the tool up in tools/list before calling it, and a key's tools/list leaves
    # out what its scopes cannot use: it says so itself, without asking the server (and never
    # reaches an OAuth registration).
    assert "Tool 'items_add' not found on server." in output, output
    assert "Registration" not in output, output

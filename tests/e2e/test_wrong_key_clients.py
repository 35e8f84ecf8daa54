"""A wrong API key ends in an error that says so, not a wait, in mcp-remote and the MCP Inspector CLI
(issue 8 item 4, issue 17 item 2).

Both clients answer any 401 by starting OAuth discovery (and mcp-remote any error whose text says
"Unauthorized"), which ended in "Dynamic Client Registration rejected (HTTP 404)". In API-key mode
a presented key that is refused is a 403 without a challenge whose message says the key was not
accepted; both clients print it and exit. No key at all stays 401. With the right key both list the tools.

The real clients (mcp-remote pinned in tests/js/package.json, the Inspector in
tools/inspector/package.json) run on the repository's
Node 22 against the product as `make run` serves it, each with its own empty
HOME so no stored login or config of this machine takes part.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, local_environ, serve_local_product

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = JS_DIR / "node_modules" / ".bin" / "node"
MCP_REMOTE = JS_DIR / "node_modules" / "mcp-remote" / "dist" / "proxy.js"
#: The Inspector pinned for `make inspector` (tools/inspector; `make test` installs it), on the same Node 22.
INSPECTOR = (
    JS_DIR.parents[1] / "tools" / "inspector" / "node_modules" / "@modelcontextprotocol" / "inspector"
    / "clients" / "launcher" / "build" / "index.js"
)
KEY = "right-key-for-the-client-tests"
WRONG = "wrong-key-for-the-client-tests"
#: Bound on a client's whole run: generous for a loaded machine, far below "never".
BOUND_S = 60
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "claude-ai", "version": "0.1.0"}},
}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    for tool in (NODE, MCP_REMOTE, INSPECTOR):
        if not tool.exists():
            pytest.fail(f"{tool} is missing: `make test` installs it (targets node and inspector-deps)")
    with serve_local_product(local_environ(tmp_path_factory.mktemp("clients"), KEY)) as live:
        yield live


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_", "npm_"))}
    env.update(HOME=str(home), MCP_INSPECTOR_SECRET_STORE="memory", NO_COLOR="1")
    return env


# ------------------------------------------------------------------ mcp-remote (as Claude Desktop launches it)


def _mcp_remote(url: str, key: str, home: Path, messages: list[dict[str, Any]]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [str(NODE), str(MCP_REMOTE), url, "--header", f"Authorization: Bearer {key}"],
        cwd=home,
        env=_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    for message in messages:
        proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    return proc


def read_answers(proc: subprocess.Popen[str], until_id: Any) -> tuple[dict[Any, dict[str, Any]], str]:
    """The JSON-RPC messages mcp-remote writes, by id, until `until_id` is answered; then its stderr.

    stdin is closed at the end, as Claude Desktop does when it quits; mcp-remote then ends.
    """
    import selectors

    assert proc.stdout is not None
    answers: dict[Any, dict[str, Any]] = {}
    try:
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        while until_id not in answers and selector.select(timeout=BOUND_S):
            line = proc.stdout.readline()
            if not line:
                break
            if line.strip().startswith("{"):
                message = json.loads(line)
                answers[message.get("id")] = message
    finally:
        _, err = _finish(proc)
    return answers, err


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the client was still running after {BOUND_S}s (a wait, not an error)\nstdout:\n{out}\nstderr:\n{err[-3000:]}")


def test_mcp_remote_with_a_wrong_key_exits_with_an_error_not_a_wait(local: LiveServer, tmp_path: Path) -> None:
    # stdin stays open, as under Claude Desktop: the client must end by itself.
    proc = _mcp_remote(local.url, WRONG, tmp_path, [INITIALIZE])
    out, err = _finish(proc)
    assert proc.returncode != 0
    assert "Fatal error" in err, err[-3000:]
    # What it tells the user (issue 17, item 2): the server's words, no OAuth registration attempt.
    assert "this API key was not accepted" in err and "Registration" not in err, err[-3000:]
    assert '"result"' not in out


def test_mcp_remote_with_the_right_key_lists_tools(local: LiveServer, tmp_path: Path) -> None:
    proc = _mcp_remote(
        local.url,
        KEY,
        tmp_path,
        [
            INITIALIZE,
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        ],
    )
    answers, _ = read_answers(proc, until_id=1)
    assert answers[0]["result"]["serverInfo"]["name"] == "mcp-lambda", answers
    assert {"add", "echo"} <= {tool["name"] for tool in answers[1]["result"]["tools"]}


# ------------------------------------------------------------------ MCP Inspector CLI


def _inspector(url: str, key: str, home: Path, *, tty: bool = False) -> tuple[int, str]:
    cmd = [str(NODE), str(INSPECTOR), "--cli", url, "--transport", "http",
           "--header", f"Authorization: Bearer {key}", "--method", "tools/list"]  # fmt: skip
    if not tty:
        try:
            proc = subprocess.run(cmd, cwd=home, env=_env(home), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=BOUND_S, check=False)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the Inspector was still running after {BOUND_S}s\n{exc.stdout}\n{exc.stderr}")
        return proc.returncode, proc.stdout + proc.stderr
    # A person at a terminal: the Inspector then attempts the interactive OAuth login.
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=home, env=_env(home), stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = bytearray()
    deadline = time.monotonic() + BOUND_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every process holding the terminal has exited
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            proc.wait()
            pytest.fail(f"the Inspector (on a terminal) was still running after {BOUND_S}s: a login that never ends")
        return proc.wait(timeout=BOUND_S), output.decode(errors="replace").replace("\r\n", "\n")
    finally:
        os.close(leader)


@pytest.mark.parametrize("tty", [False, True], ids=["scripted", "at-a-terminal"])
def test_inspector_cli_with_a_wrong_key_exits_with_an_error_not_a_wait(local: LiveServer, tmp_path: Path, tty: bool) -> None:
    code, output = _inspector(local.url, WRONG, tmp_path, tty=tty)
    assert code != 0, output
    error = json.loads(output.strip().splitlines()[-1])["error"]
    # Issue 17, item 2: it says the key was not accepted (before: "Dynamic Client Registration rejected (HTTP 404)").
    assert "this API key was not accepted" in error["message"] and error.get("status") == 403, error


def test_inspector_cli_with_the_right_key_lists_tools(local: LiveServer, tmp_path: Path) -> None:
    code, output = _inspector(local.url, KEY, tmp_path)
    assert code == 0, output
    tools = json.loads(output[output.index("{"):])["tools"]
    assert {"add", "echo"} <= {tool["name"] for tool in tools}

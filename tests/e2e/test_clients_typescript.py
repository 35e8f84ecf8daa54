"""The MCP TypeScript SDK clients (v2 `@modelcontextprotocol/client`, v1 `@modelcontextprotocol/sdk`)
over loopback HTTP, run as Node scripts from tests/js with the Node 22 that tests/js installs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = JS_DIR / "node_modules" / ".bin" / "node"
TIMEOUT_S = 60

MODERN_VERSION = "2026-07-28"
HANDSHAKE_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}
NON_ASCII = "héllo ✓"


def run_client(script: str, url: str, mode: str, *extra: str) -> tuple[dict[str, Any], str]:
    """Run tests/js/<script> <url> <mode> [extra...]; return its one JSON line and its stderr."""
    packages = [JS_DIR / "node_modules" / "@modelcontextprotocol" / name for name in ("client", "sdk")]
    if not NODE.exists() or not all(p.is_dir() for p in packages):
        pytest.fail(
            f"Node test tools are not installed: expected {NODE} and {', '.join(map(str, packages))}. "
            "Run `npm ci` in tests/js (the Makefile does this before pytest)."
        )
    cmd = [str(NODE), str(JS_DIR / script), url, mode, *extra]
    try:
        proc = subprocess.run(cmd, cwd=JS_DIR, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)} timed out after {TIMEOUT_S}s\nstdout:\n{exc.stdout}\nstderr:\n{exc.stderr}")
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return json.loads(lines[0]), proc.stderr


CLIENTS = [
    pytest.param("client-v2.mjs", "auto", id="v2-auto"),
    pytest.param("client-v2.mjs", "handshake", id="v2-handshake"),
    pytest.param("client-v1.mjs", "handshake", id="v1-handshake"),
]


def assert_version(out: dict[str, Any], mode: str) -> None:
    if mode == "auto":
        assert out["negotiatedVersion"] == MODERN_VERSION
        assert out.get("era") == "modern"
    else:
        assert out["negotiatedVersion"] in HANDSHAKE_VERSIONS
        if "era" in out:  # the v2 client reports it; v1 predates eras
            assert out["era"] == "legacy"


@pytest.mark.parametrize(("script", "mode"), CLIENTS)
def test_typescript_client_lists_and_calls_tools(product_server: LiveServer, script: str, mode: str) -> None:
    out, _ = run_client(script, product_server.url, mode)
    assert_version(out, mode)
    assert {"add", "echo"} <= set(out["tools"])
    assert out["addResult"] == {"result": 5}
    assert out["echoText"] == NON_ASCII
    # The server maps an unknown tool to a JSON-RPC error, Invalid Params.
    assert out["unknownToolErrorCode"] == -32602, out["unknownToolErrorMessage"]
    assert "no_such_tool" in out["unknownToolErrorMessage"]


@pytest.mark.parametrize(("script", "mode"), CLIENTS)
def test_typescript_client_sends_extra_headers(product_server: LiveServer, script: str, mode: str) -> None:
    """`--header` reaches every HTTP request (how the scripts talk to an authenticated deployment)."""
    out, stderr = run_client(script, product_server.url, mode, "--header", "X-Test-Header: on", "--trace")
    assert out["addResult"] == {"result": 5}
    posts = stderr.count(">>> POST ")
    assert posts >= 4
    assert stderr.count(">>> x-test-header: on") >= posts


@pytest.mark.parametrize("mode", ["auto", "handshake"])
def test_typescript_v2_client_gets_progress_and_logs(fixture_server: LiveServer, mode: str) -> None:
    out, _ = run_client("client-v2-notifications.mjs", fixture_server.url, mode)
    assert_version(out, mode)

    values = [p["progress"] for p in out["progress"]]
    assert len(values) == 3
    assert values == sorted(values)
    assert values == [0, 50, 100]
    assert all(p["total"] == 100 for p in out["progress"])

    assert [log["data"] for log in out["logs"]] == [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    assert {log["level"] for log in out["logs"]} == {"info"}
    assert out["loggingResultText"] == "Tool with logging executed successfully"

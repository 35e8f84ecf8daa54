"""The README and docs/ stay true: every configuration variable is documented, every make target named exists,
every command printed runs as written, and the README stays a short front door whose links resolve."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.auth.config import ENV_DOC as AUTH_ENV
from app.transport.config import ENV_DOC as TRANSPORT_ENV
from app.items.config import ENV_DOC as ITEMS_ENV
from app.observability.config import ENV_DOC as OBSERVABILITY_ENV
from app.quotas.config import ENV_DOC as QUOTAS_ENV
from app.tasks.config import ENV_DOC as TASKS_ENV

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOC_FILES = sorted((ROOT / "docs").glob("*.md"))
#: Everything a user reads: the front door and the docs it links to.
ALL_DOCS = "\n".join([README, *(path.read_text() for path in DOC_FILES)])
MAKEFILE = (ROOT / "Makefile").read_text() + (ROOT / "deploy" / "sam.mk").read_text()


@pytest.mark.parametrize("name", sorted({**TRANSPORT_ENV, **AUTH_ENV, **ITEMS_ENV, **OBSERVABILITY_ENV, **TASKS_ENV, **QUOTAS_ENV}))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in (ROOT / "docs" / "configuration.md").read_text()


def test_the_readme_is_a_short_front_door() -> None:
    assert len(README.splitlines()) <= 200


def test_every_doc_link_resolves_and_every_doc_is_linked_from_the_readme() -> None:
    for source in [ROOT / "README.md", *DOC_FILES]:
        for target in re.findall(r"\]\(((?:\.\./|docs/)?[\w./-]+\.md)(?:#[\w-]+)?\)", source.read_text()):
            assert (source.parent / target).resolve().exists(), f"{source.name} links to missing {target}"
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", README))
    assert {path.name for path in DOC_FILES} <= linked


def test_the_two_commands_come_first_and_exist() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "make run" in first_block and "make test" in first_block
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", MAKEFILE, re.MULTILINE)


@pytest.mark.parametrize("target", sorted(set(re.findall(r"`make ([a-z-]+)", ALL_DOCS))))
def test_every_make_target_named_exists(target: str) -> None:
    assert re.search(rf"^{re.escape(target)}:", MAKEFILE, re.MULTILINE), target


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# -- Every command the README and the `make run` banner print works as written (issue 8, item 10) --

INSPECTOR_KEY = "readme-inspector-test-key-0001"
#: Installed by `make test` (inspector-deps); a bare pytest run without it skips these, CI never does.
INSPECTOR_READY = (ROOT / "tools" / "inspector" / "node_modules" / ".installed").exists()
needs_inspector = pytest.mark.skipif(
    not INSPECTOR_READY and not os.environ.get("CI"), reason="run `make inspector-deps` (make test does)"
)


def test_no_bare_npx_inspector_line_anywhere_a_user_reads() -> None:
    """`npx @modelcontextprotocol/inspector` resolves to 0.x on Node 20 (no --header) and asks to confirm."""
    banner = (ROOT / "app" / "dev" / "local.py").read_text()
    assert "npx" not in banner
    assert not re.search(r"npx (-y )?@modelcontextprotocol/inspector(@\S+)? --", ALL_DOCS)


def test_banner_make_commands_name_existing_targets() -> None:
    from app.dev.local import inspector_hint

    hint = inspector_hint("http://127.0.0.1:8000/mcp", "k")
    targets = re.findall(r"make ([a-z-]+)", hint)
    assert targets == ["inspector", "inspector"]
    for target in targets:
        assert re.search(rf"^{target}:", MAKEFILE, re.MULTILINE)


@pytest.fixture(scope="module")
def local_product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The protected product (development key, SQLite), as `make run` serves it, on 127.0.0.1."""
    from app.auth import protect
    from app.main import build_product
    from app.transport.asgi import create_asgi_app
    from tests.conftest import serve

    items = tmp_path_factory.mktemp("readme") / "items.sqlite3"
    product = build_product({"MCP_DEV_API_KEY": INSPECTOR_KEY, "ITEMS_SQLITE_PATH": str(items)})
    with serve(protect(create_asgi_app(product.server, product.settings), product.settings, product.auth)) as live:
        yield live.url


def _run_printed(command: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # HOME: the Inspector keeps a catalog file there; keep it out of the developer's home.
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@needs_inspector
def test_banner_inspector_commands_work_as_printed(local_product: str, tmp_path: Path) -> None:
    from app.dev.local import inspector_hint

    listing, call = [line.strip() for line in inspector_hint(local_product, INSPECTOR_KEY).splitlines()[1:]]
    listed = _run_printed(listing, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {"echo", "items_add"} <= {tool["name"] for tool in json.loads(listed.stdout)["tools"]}
    called = _run_printed(call, tmp_path)
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["structuredContent"] == {"result": "hi"}


@needs_inspector
def test_readme_inspector_row_works_as_written(local_product: str, tmp_path: Path) -> None:
    (row,) = [line for line in README.splitlines() if line.startswith("| MCP Inspector |")]
    command = re.search(r"`(make inspector [^`]+)`", row).group(1)
    assert command == "make inspector KEY=$KEY"
    # The row's default URL is :8000; the test server's port differs, which URL= covers (as the row says).
    result = _run_printed(f"export KEY={INSPECTOR_KEY}; {command} URL={local_product}", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "items_add" in result.stdout
    assert INSPECTOR_KEY not in result.stdout + result.stderr  # make does not echo the key


def test_readme_keygen_commands_run_as_written(tmp_path: Path) -> None:
    # The local recipe's --ring-file line writes a file and prints no SSM commands: the recipe test runs it.
    commands = [
        line.strip() for line in ALL_DOCS.splitlines()
        if line.strip().startswith(".venv/bin/python -m app.dev.keygen") and "--ring-file" not in line
    ]  # fmt: skip
    assert len(commands) >= 2
    for command in commands:
        result = _run_printed(command.split("#", 1)[0], tmp_path)
        assert result.returncode == 0, result.stderr
        assert "aws ssm put-parameter" in result.stdout


def test_readme_invoke_command_runs_as_written(tmp_path: Path) -> None:
    (command,) = set(re.findall(r"`(make invoke EVENT=events/[\w.-]+)`", ALL_DOCS))
    result = _run_printed(command, tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"statusCode": 200' in result.stdout or "'statusCode': 200" in result.stdout, result.stdout[-2000:]


# -- Issue 17, item 5: the recipes a new user follows, run as written -----------------------------


def test_readme_read_only_key_recipe_works_as_written(tmp_path: Path) -> None:
    """keygen --ring-file, then `MCP_API_KEYS_FILE=… make run`: the key reads and is refused a write, by name."""
    import httpx

    from tests.conftest import _free_port as free_port

    block = next(b for b in re.findall(r"```bash\n(.*?)```", README, re.S) if "--ring-file" in b)
    mint, serve = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert serve.startswith("MCP_API_KEYS_FILE=.data/keys.json make run")
    ring = tmp_path / "keys.json"  # the test's own file instead of the repository's .data/
    minted = _run_printed(mint.replace(".data/keys.json", str(ring)), tmp_path)
    assert minted.returncode == 0, minted.stderr
    key = minted.stdout.splitlines()[1].strip()
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path), "PORT": str(port), "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3")}
    server = subprocess.Popen(
        serve.replace(".data/keys.json", str(ring)), shell=True, cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        headers = {"authorization": f"Bearer {key}", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2025-11-25"}  # fmt: skip

        def call(name: str, arguments: dict[str, object]) -> httpx.Response:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
            return httpx.post(url, json=body, headers=headers, timeout=10)

        for _ in range(300):
            try:
                listed = call("items_list", {})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("make run did not start")
        assert listed.status_code == 200 and listed.json()["result"]["isError"] is False, listed.text
        refused = call("items_add", {"title": "nope"})
        assert "tool items_add needs scope items:write" in refused.text, refused.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


@needs_inspector
def test_inspector_over_stdio_works_as_written(tmp_path: Path) -> None:
    listed = _run_printed("make inspector-stdio", tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "items_add" in {tool["name"] for tool in json.loads(listed.stdout)["tools"]}
    called = _run_printed("make inspector-stdio METHOD=tools/call ARGS='--tool-name echo --tool-arg text=hi'", tmp_path)
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["structuredContent"] == {"result": "hi"}
    assert re.search(r"`… --cli \S+/\.venv/bin/python -m app\.dev\.stdio --method tools/list`", ALL_DOCS)


def test_readme_add_a_tool_snippet_registers_and_answers_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The "Add a tool" code, in place of app/tools.py's `register`, builds into the product and answers over HTTP."""
    import httpx
    from typing import Annotated

    from mcp.server.mcpserver import MCPServer
    from pydantic import Field

    from app import tools
    from app.core.events import MODERN_VERSION
    from app.main import build_product
    from app.scopes import ScopeCatalog
    from tests.conftest import DEV_KEY, local_environ, serve
    from tests.rpc import mcp_request, result_of

    section = README.split("## Add a tool", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {"MCPServer": MCPServer, "ScopeCatalog": ScopeCatalog, "Annotated": Annotated, "Field": Field}
    exec(compile(code, "README.md#add-a-tool", "exec"), namespace)  # noqa: S102 - the README's own snippet
    monkeypatch.setattr(tools, "register", namespace["register"])

    product = build_product(local_environ(tmp_path))
    assert product.scopes.needs("tool", "add") == frozenset()
    with serve(product.asgi_app()) as live:
        headers, body = mcp_request(DEV_KEY, MODERN_VERSION, "tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
        result = result_of(httpx.post(live.url, headers=headers, json=body))
    assert result["structuredContent"] == {"result": 5}

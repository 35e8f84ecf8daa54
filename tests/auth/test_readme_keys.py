"""Every key the README shows how to mint, minted as written, then used on the item store over HTTP (issue 20, item 1).

Before: `keygen --name x` wrote an entry without `scopes` and the deploy example minted
`--scopes mcp:tools`; both got `403 -32051 "tool items_list needs scope items:read"` on every item
tool. Now keygen grants every declared scope unless told otherwise, and an entry without `scopes`
(a ring minted before per-tool scopes) holds every declared scope. The commands are read from the
README itself, so an example that stops working fails here.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.dev.keygen import main as keygen
from tests.conftest import LiveServer, serve
from tests.rpc import mcp_request

from .support import new_key, ring_json

ROOT = Path(__file__).resolve().parents[2]
KEYGEN = re.compile(r"python -m app\.dev\.keygen(?P<args>[^`\n]*)")


def readme_keygen_commands() -> list[str]:
    """The argument strings of every API-key keygen command in the README and docs/ (not the requestState one)."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    # The local recipe's --ring-file writes a file (tests/test_readme.py runs it); the key is the same.
    commands = [re.sub(r"\s*--ring-file\s+\S+", "", m.group("args")).strip() for m in KEYGEN.finditer(text)]
    return [c for c in commands if "--request-state-key" not in c]


def mint(args: str) -> tuple[str, dict[str, Any]]:
    """Run keygen with `args` as the README writes them: (the key, its ring entry)."""
    out = io.StringIO()
    assert keygen(shlex.split(args), out=out) == 0
    lines = out.getvalue().splitlines()
    key = lines[1].strip()
    entry_line = lines[lines.index("Ring entry to merge into the key ring JSON (holds only a hash):") + 1]
    return key, json.loads(entry_line)


@pytest.fixture(scope="module")
def minted() -> dict[str, tuple[str, dict[str, Any]]]:
    commands = readme_keygen_commands()
    assert len(commands) >= 2, commands  # the deploy example and the read-only example, at least
    # Plus the form the issue tried first, as a new user would.
    return {args: mint(args) for args in dict.fromkeys([*commands, "--name x"])}


@pytest.fixture(scope="module")
def legacy_key() -> Any:
    return new_key()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, minted: dict[str, Any], legacy_key: Any) -> Iterator[LiveServer]:
    from app.main import build_product

    tmp = tmp_path_factory.mktemp("readme-keys")
    ring: dict[str, Any] = {}
    for _, entry in minted.values():
        ring.update(entry)
    # A ring entry as keygen wrote it before tools declared scopes: no `scopes` at all.
    ring.update(json.loads(ring_json((legacy_key, {"name": "minted before per-tool scopes"}))))
    (tmp / "ring.json").write_text(json.dumps(ring), encoding="utf-8")
    env = {"MCP_API_KEYS_FILE": str(tmp / "ring.json"), "ITEMS_SQLITE_PATH": str(tmp / "items.sqlite3")}
    with serve(build_product(env).asgi_app()) as server:
        yield server


def call(url: str, key: str, tool: str, arguments: dict[str, Any]) -> httpx.Response:
    headers, body = mcp_request(key, "2025-06-18", "tools/call", {"name": tool, "arguments": arguments})
    return httpx.post(url, json=body, headers=headers, timeout=30)


def test_keygen_without_scopes_grants_every_declared_scope_and_says_so() -> None:
    out = io.StringIO()
    keygen(["--name", "x"], out=out)
    text = out.getvalue()
    lines = text.splitlines()
    [entry] = json.loads(lines[lines.index("Ring entry to merge into the key ring JSON (holds only a hash):") + 1]).values()
    assert entry["scopes"] == ["items:read", "items:write"]
    assert "Scopes: items:read, items:write (every scope the server declares" in text


def test_keygen_scopes_none_writes_an_empty_list_and_unknown_scopes_get_a_note() -> None:
    _, entry = mint("--scopes none")
    assert list(entry.values())[0]["scopes"] == []
    out = io.StringIO()
    keygen(["--scopes", "mcp:tools"], out=out)
    assert "no tool, resource or prompt declares mcp:tools; this key cannot use what needs items:read, items:write" in out.getvalue()


def test_every_readme_key_reads_the_item_store_and_writes_it_when_its_scopes_say_so(
    live: LiveServer, minted: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    for args, (key, entry) in minted.items():
        scopes = set(next(iter(entry.values()))["scopes"])
        listed = call(live.url, key, "items_list", {})
        assert listed.status_code == 200 and "error" not in listed.json(), (args, listed.text)
        added = call(live.url, key, "items_add", {"title": f"from {args}", "idempotency_key": f"readme-{hash(args)}"})
        if "items:write" in scopes:
            assert added.status_code == 200 and added.json()["result"]["structuredContent"]["created"], (args, added.text)
        else:  # the read-only example: refused as the README says, nothing written
            # API-key mode: a plain JSON-RPC error in a 200, no OAuth step-up challenge (issue 17, item 3).
            assert added.status_code == 200 and added.json()["error"]["code"] == -32051, (args, added.text)
            assert "tool items_add needs scope items:write" in added.json()["error"]["message"]
            assert "www-authenticate" not in added.headers
    assert any("--scopes items:read" in args for args in minted)  # the read-only example is among them


def test_a_ring_entry_without_scopes_keeps_working_after_the_upgrade(live: LiveServer, legacy_key: Any) -> None:
    listed = call(live.url, legacy_key.key, "items_list", {})
    assert listed.status_code == 200 and "error" not in listed.json(), listed.text
    added = call(live.url, legacy_key.key, "items_add", {"title": "legacy", "idempotency_key": "legacy-1"})
    assert added.status_code == 200 and added.json()["result"]["structuredContent"]["created"], added.text

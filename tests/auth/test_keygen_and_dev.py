"""The operator's key generator and the local runner's banner."""

from __future__ import annotations

import hashlib
import io
import json
import time

import pytest

from app.auth.dev import dev_key_banner
from app.dev.keygen import main
from app.auth.keyring import parse_expiry, parse_key_ring
from app.auth.request_state import parse_sealing_ring

from .support import auth_settings


def run(*argv: str) -> list[str]:
    out = io.StringIO()
    assert main(list(argv), out=out) == 0
    return [line.strip() for line in out.getvalue().splitlines()]


def test_keygen_prints_a_key_whose_entry_verifies() -> None:
    lines = run("--name", "ci-bot", "--scopes", "mcp:tools, mcp:read", "--expires", "2030-01-01T00:00:00+02:00")
    key = next(line for line in lines if line.startswith("mcp_"))
    entry_line = lines[lines.index("Ring entry to merge into the key ring JSON (holds only a hash):") + 1]
    entry = json.loads(entry_line)
    ((key_id, fields),) = entry.items()
    assert key.startswith(f"mcp_{key_id}_")
    assert fields == {
        "sha256": hashlib.sha256(key.encode()).hexdigest(),
        "name": "ci-bot",
        "scopes": ["mcp:tools", "mcp:read"],
        "expires": "2029-12-31T22:00:00Z",
    }
    ring = parse_key_ring(entry_line)
    token = key.encode()
    found, reason = ring.verify(token, hashlib.sha256(token).digest(), time.time())
    assert reason == "ok" and found is not None and found.principal.name == "ci-bot"
    assert any("put-parameter" in line and "--type SecureString" in line for line in lines)
    assert sum(key in line for line in lines) == 1  # the key is printed once, never in the commands


def test_keygen_rejects_bad_expiry() -> None:
    with pytest.raises(SystemExit):
        main(["--expires", "next tuesday"], out=io.StringIO())


def test_keygen_two_keys_differ() -> None:
    first = next(line for line in run() if line.startswith("mcp_"))
    second = next(line for line in run() if line.startswith("mcp_"))
    assert first != second


def test_request_state_secret() -> None:
    lines = run("--request-state-key", "--param", "/my/state")
    secret = lines[1]
    assert len(bytes.fromhex(secret)) == 32
    ring = parse_sealing_ring(json.dumps({"current": secret}))
    codec = ring.codec_at(0)
    assert codec.unseal(codec.seal(b"x")) == b"x"
    assert any("/my/state" in line for line in lines)


def test_parse_expiry_forms() -> None:
    assert parse_expiry("1970-01-01T00:01:00Z") == 60
    assert parse_expiry(60) == 60
    with pytest.raises(ValueError):
        parse_expiry(True)


def test_banner_for_generated_and_configured_dev_keys() -> None:
    generated = auth_settings()
    assert generated.dev_api_key is not None
    text = dev_key_banner(generated, url="http://127.0.0.1:9000/mcp")
    assert generated.dev_api_key in text
    assert "Authorization: Bearer " + generated.dev_api_key in text
    assert "http://127.0.0.1:9000/mcp" in text and "refused in Lambda" in text
    configured = auth_settings(MCP_DEV_API_KEY="local-dev-key-0123456789")
    assert "MCP_DEV_API_KEY" in dev_key_banner(configured)


def test_banner_when_nothing_local() -> None:
    assert dev_key_banner(auth_settings(MCP_API_KEYS_PARAM="/k")) == ""
    assert dev_key_banner(auth_settings(MCP_OAUTH_ISSUER="https://idp.example.com")) == ""
    assert "DISABLED" in dev_key_banner(auth_settings(MCP_AUTH_MODE="none"))


def test_public_api_resolves_lazily() -> None:
    import app.auth as auth

    assert callable(auth.protect) and callable(auth.build_request_state_security) and callable(auth.dev_key_banner)
    assert auth.AuthSettings.from_env({}).mode == "api_key"
    with pytest.raises(AttributeError):
        auth.nothing_here  # noqa: B018


def test_keygen_ring_file_merges_entries_owner_only_and_refuses_a_foreign_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ring = tmp_path / "local" / "keys.json"
    for name in ("first", "second"):
        assert main(["--name", name, "--scopes", "items:read", "--ring-file", str(ring)], out=io.StringIO()) == 0
    parse_key_ring(ring.read_text())  # a valid ring
    assert sorted(entry["name"] for entry in json.loads(ring.read_text()).values()) == ["first", "second"]  # merged
    assert ring.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "local" / "keys.json.tmp").exists()
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="not a key ring JSON object"):
        main(["--name", "x", "--ring-file", str(broken)], out=io.StringIO())
    assert broken.read_text() == "[1, 2]"  # left as it was


def test_minting_a_sealing_secret_builds_no_server_and_imports_no_mcp_code() -> None:
    """`python -m app.dev.keygen --request-state-key` as an operator runs it: the product is built only
    to learn the declared scopes of an API key, so a sealing secret needs neither it nor the MCP SDK."""
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import io, sys; from app.dev.keygen import main; out = io.StringIO(); "
        "assert main(['--request-state-key'], out=out) == 0 and 'First ring' in out.getvalue(); "
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'app.main', 'starlette'))))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

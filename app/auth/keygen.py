"""Mint an API key (or a requestState sealing secret) for an operator: the command `app.dev.keygen` runs.

    python -m app.dev.keygen [--name N] [--scopes a,b|none] [--expires ISO] [--param NAME] [--ring-file F]
    python -m app.dev.keygen --request-state-key [--param NAME]

Prints the key once to stdout (for the operator to hand over) and the ring
entry to merge, which holds only the key's sha256. Nothing is written
anywhere and nothing is logged.

Without `--scopes` the key gets every scope the server declares today (it
can use every tool, resource and prompt), and a note says so: a key that
cannot read the item store is not what someone following the README expects.
The entry always lists its scopes, so a scope a later release declares is
granted by editing the ring, never silently.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

#: What the product declares (`app.dev.keygen` builds it to ask): called only when a key is minted.
DeclaredScopes = Callable[[], Sequence[str]]

from app.auth.keyring import digest_hex, generate_key, parse_expiry


DEFAULT_KEYS_PARAM = "/mcp/api-keys"
DEFAULT_STATE_PARAM = "/mcp/request-state-keys"


def ring_entry(
    key: str, key_id: str, *, name: str | None = None, scopes: Sequence[str] = (), expires: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha256": digest_hex(key)}
    if name:
        entry["name"] = name
    # Always written, even empty: an entry without `scopes` means "every declared scope" (app.auth.keyring).
    entry["scopes"] = list(scopes)
    if expires:
        entry["expires"] = expires
    return {key_id: entry}


def _api_key(args: argparse.Namespace, out: TextIO, declared_scopes: DeclaredScopes) -> None:
    expires = args.expires
    if expires is not None:
        try:
            moment = datetime.fromtimestamp(parse_expiry(expires), tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise SystemExit("--expires must be ISO-8601 (e.g. 2026-12-31T00:00:00Z) or epoch seconds") from None
        expires = moment.isoformat().replace("+00:00", "Z")
    note: str | None = None
    if args.scopes is None:
        scopes = list(declared_scopes())
        note = (
            f"Scopes: {', '.join(scopes) or '(none declared)'} (every scope the server declares; "
            "--scopes items:read mints a read-only key, --scopes none a key for the scope-free tools only)"
        )
    elif args.scopes.strip().lower() == "none":
        scopes = []
        note = "Scopes: none (this key can use only the tools, resources and prompts that declare no scope)"
    else:
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        if not scopes:
            raise SystemExit("--scopes needs comma-separated scopes, or none")
        declared = declared_scopes()
        notes = []
        unknown = sorted(set(scopes) - set(declared))
        if unknown:
            notes.append(f"no tool, resource or prompt declares {', '.join(unknown)}")
        lacking = sorted(set(declared) - set(scopes))
        if lacking:
            notes.append(f"this key cannot use what needs {', '.join(lacking)} (leave out --scopes for every scope)")
        note = f"Note: {'; '.join(notes)}" if notes else None
    key_id, key = generate_key()
    entry = json.dumps(ring_entry(key, key_id, name=args.name, scopes=scopes, expires=expires))
    param = shlex.quote(args.param)
    print("New API key (shown once; give it to the agent, store it nowhere else):", file=out)
    print(f"  {key}", file=out)
    if note:
        print(note, file=out)
    print("", file=out)
    print("Ring entry to merge into the key ring JSON (holds only a hash):", file=out)
    print(f"  {entry}", file=out)
    print("", file=out)
    if args.ring_file:
        path = _add_to_ring_file(Path(args.ring_file), json.loads(entry))
        print(f"Added to {path} (a local key ring). Serve it with:", file=out)
        print(f"  MCP_API_KEYS_FILE={shlex.quote(str(path))} make run", file=out)
        return
    print("Merge it into the SSM parameter (a running function sees it at once):", file=out)
    print(
        f"  aws ssm get-parameter --name {param} --with-decryption --query Parameter.Value --output text > ring.json",
        file=out,
    )
    print(f"  jq -c --argjson e {shlex.quote(entry)} '. + $e' ring.json > ring.new.json", file=out)
    put = f"aws ssm put-parameter --name {param} --type SecureString --overwrite --value file://ring.new.json"
    print(f"  {put}", file=out)
    print("  rm ring.json ring.new.json", file=out)
    print("First key of a new ring:", file=out)
    print(f"  aws ssm put-parameter --name {param} --type SecureString --value {shlex.quote(entry)}", file=out)


def _add_to_ring_file(path: Path, entry: dict[str, object]) -> Path:
    """Merge `entry` into the ring file at `path` (created, owner-only, if missing); returns the path."""
    ring: dict[str, object] = {}
    if path.exists():
        try:
            ring = json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError:
            raise SystemExit(f"{path} is not a key ring JSON object; fix or remove it") from None
        if not isinstance(ring, dict):
            raise SystemExit(f"{path} is not a key ring JSON object; fix or remove it")
    path.parent.mkdir(parents=True, exist_ok=True)
    ring.update(entry)
    # Hashes only, but still who may call: written whole (no half-written ring) and owner-only.
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(ring, indent=2) + "\n", encoding="utf-8")
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path


def _request_state_key(args: argparse.Namespace, out: TextIO) -> None:
    secret = secrets.token_hex(32)
    param = shlex.quote(args.param)
    print("New requestState sealing secret (32 random bytes, hex):", file=out)
    print(f"  {secret}", file=out)
    print("", file=out)
    print("First ring:", file=out)
    value = json.dumps({"current": secret})
    print(f"  aws ssm put-parameter --name {param} --type SecureString --value {shlex.quote(value)}", file=out)
    print("Rotation: see docs/deploy.md (current -> previous with previous_valid_until).", file=out)


def main(argv: Sequence[str] | None, out: TextIO | None, *, declared_scopes: DeclaredScopes) -> int:
    """The command line; `declared_scopes` is asked only when an API key is minted."""
    parser = argparse.ArgumentParser(prog="python -m app.dev.keygen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", help="human-readable name of the key's holder")
    parser.add_argument(
        "--scopes",
        help="comma-separated scopes granted to the key, or none (default: every scope the server declares)",
    )
    parser.add_argument("--expires", help="expiry, ISO-8601 (naive = UTC) or epoch seconds")
    parser.add_argument("--param", help="SSM parameter name used in the printed commands")
    parser.add_argument(
        "--ring-file",
        help="local runs: add the entry to this key ring JSON file (created if missing) for MCP_API_KEYS_FILE",
    )
    parser.add_argument("--request-state-key", action="store_true", help="mint a requestState sealing secret instead")
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    if args.request_state_key:
        args.param = args.param or DEFAULT_STATE_PARAM
        _request_state_key(args, stream)
    else:
        args.param = args.param or DEFAULT_KEYS_PARAM
        _api_key(args, stream, declared_scopes)
    return 0


"""What priming runs: a catalogue of read-only requests in both eras, modules to import, a throwaway key.

Requests enter below access control (no credential), except the rounds run
with `priming_credential`, a random key lent to the API key ring for the
duration of priming only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from app.auth.cache import RefreshingCache
from app.auth.keyring import KeyEntry, KeyRing, generate_key
from app.core.events import HANDSHAKE_VERSION, MODERN_VERSION, modern_meta
from app.core.principal import Principal

PRIMING_ID: Final = "snapstart-prime"
#: Rounds of tool calls through the protected path while priming (see `SnapStartHooks`).
PROTECTED_PRIMING_ROUNDS: Final = 8

#: Imported by the first request at the earliest; importing them here moves that into the snapshot.
LAZY_MODULES: Final = (
    "anyio._backends._asyncio",  # anyio's backend, loaded by the first anyio call in a task
    "anyio.to_thread",  # secret fetches run in a worker thread
    "concurrent.futures.thread",
    "botocore.retries.adaptive",  # the DynamoDB client's retry mode, loaded at its first call
    "botocore.retries.standard",
)

#: Who the priming requests with a credential are; no such key exists outside `priming_credential`.
PRIMING_PRINCIPAL = Principal(id="snapstart-priming", kind="api_key", name="SnapStart priming (throwaway key)")


@contextmanager
def priming_credential(key_ring: RefreshingCache[KeyRing] | None) -> Iterator[str | None]:
    """A throwaway API key that is valid inside the block only; None without an API key ring.

    It lets priming run requests through the whole protected path, so the
    first real request after a restore finds that code warm, without any
    real credential in the process: the key is random, never stored, and its
    one-entry ring is lent to the cache and forgotten on exit, before the snapshot.
    """
    if key_ring is None:
        yield None
        return
    key_id, key = generate_key()
    entry = KeyEntry(
        key_id=key_id, digest=hashlib.sha256(key.encode("ascii")).digest(), expires_at=None, principal=PRIMING_PRINCIPAL
    )
    with key_ring.lend(KeyRing({key_id.encode("ascii"): entry})):
        yield key


def priming_requests(
    tool_calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(headers, JSON-RPC body) pairs: read-only methods, then the given tool calls, in both eras."""
    handshake = {"mcp-protocol-version": HANDSHAKE_VERSION}
    requests: list[tuple[dict[str, str], dict[str, Any]]] = [
        (
            handshake,
            {
                "method": "initialize",
                "params": {
                    "protocolVersion": HANDSHAKE_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": PRIMING_ID, "version": "1"},
                },
            },
        ),
        *(
            (handshake, {"method": method, "params": {}})
            for method in ("ping", "tools/list", "prompts/list", "resources/list", "resources/templates/list")
        ),
        *(
            (handshake, {"method": "tools/call", "params": {"name": name, "arguments": dict(args)}})
            for name, args in tool_calls
        ),
        (
            {"mcp-protocol-version": MODERN_VERSION, "mcp-method": "server/discover"},
            {"method": "server/discover", "params": {"_meta": modern_meta(PRIMING_ID)}},
        ),
        *(
            (
                {"mcp-protocol-version": MODERN_VERSION, "mcp-method": "tools/call", "mcp-name": name},
                {"method": "tools/call", "params": {"name": name, "arguments": dict(args), "_meta": modern_meta(PRIMING_ID)}},
            )
            for name, args in tool_calls
        ),
    ]
    return [(headers, {"jsonrpc": "2.0", "id": index, **body}) for index, (headers, body) in enumerate(requests, 1)]

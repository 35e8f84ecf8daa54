"""API keys: format, key ring parsing and verification. Pure (no I/O, no boto3).

Key format: ``mcp_<keyid>_<secret>``

* `<keyid>`: non-secret identifier, [A-Za-z0-9-]{1,64} (no "_", so the split
  is unambiguous). It names the ring entry: lookup is one dict access.
* `<secret>`: 32 random bytes, base64url (may itself contain "_").
* The ring stores only sha256(whole key) in hex; the plain key exists only
  on the client. Comparison is `hmac.compare_digest` on the digests.

Ring JSON (the SSM SecureString value, or the local file)::

    {"<keyid>": {"sha256": "<64 hex>", "name": "ci-bot",
                 "scopes": ["items:read"], "expires": "2026-12-31T00:00:00Z"}}

`name`, `scopes`, `expires` (ISO-8601, naive = UTC, or epoch seconds) are
optional. An entry without `scopes` holds every scope the server declares
(`default_scopes`): that is what a key could do before tools declared scopes,
so rings minted then keep working after an upgrade. `"scopes": []` holds none.
`python -m app.dev.keygen` always writes the list, so a key it mints never
gains a scope that a later release declares. Removing an entry revokes the key. A malformed entry is skipped
(logged by key id) so one typo cannot lock every other agent out; a ring that
is not a JSON object is rejected as a whole (the cache keeps the last good one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.core.principal import Principal

logger = logging.getLogger(__name__)

KEY_PREFIX = "mcp_"
KEY_PREFIX_BYTES = KEY_PREFIX.encode()
KEY_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
_HEX64_RE = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class KeyEntry:
    key_id: str
    digest: bytes = field(repr=False)
    expires_at: float | None
    #: Built once per ring load, so a verified request allocates nothing.
    principal: Principal


class KeyRing:
    """Immutable mapping key id -> entry, as loaded from one ring value."""

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[bytes, KeyEntry]) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def verify(self, token: bytes, digest: bytes, now: float) -> tuple[KeyEntry | None, str]:
        """Check `token` (whose sha256 is `digest`) against the ring.

        Returns (entry, "ok") or (None, reason). Reasons are fixed strings for
        logs; the caller answers every failure the same way.
        """
        sep = token.find(b"_", 4)
        if not token.startswith(KEY_PREFIX_BYTES) or sep <= 4:
            return None, "malformed key"
        entry = self._entries.get(token[4:sep])
        if entry is None:
            return None, "unknown key id"
        # Digest before expiry: an unauthenticated prober learns nothing about the entry.
        if not hmac.compare_digest(digest, entry.digest):
            return None, "key mismatch"
        if entry.expires_at is not None and now >= entry.expires_at:
            return None, "key expired"
        return entry, "ok"


def key_id_of(token: bytes) -> str | None:
    """The non-secret key id of a well-formed key (for logs), else None."""
    if not token.startswith(KEY_PREFIX_BYTES):
        return None
    sep = token.find(b"_", 4)
    if sep <= 4:
        return None
    candidate = token[4:sep].decode("ascii", "replace")
    return candidate if KEY_ID_RE.fullmatch(candidate) else None


def parse_expiry(value: Any) -> float:
    """ISO-8601 (naive means UTC) or epoch seconds -> epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("expires must be ISO-8601 or epoch seconds")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    raise ValueError("expires must be ISO-8601 or epoch seconds")


def _entry(key_id: str, raw: Any, default_scopes: tuple[str, ...] = ()) -> KeyEntry:
    if not isinstance(raw, dict):
        raise ValueError("entry is not an object")
    digest_hex = raw.get("sha256")
    if not isinstance(digest_hex, str) or not _HEX64_RE.fullmatch(digest_hex):
        raise ValueError("sha256 must be 64 hex characters")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError("name must be a string")
    scopes = raw.get("scopes", list(default_scopes))
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("scopes must be a list of strings")
    expires = raw.get("expires")
    expires_at = None if expires is None else parse_expiry(expires)
    principal = Principal(id=key_id, kind="api_key", name=name, scopes=frozenset(scopes))
    return KeyEntry(key_id=key_id, digest=bytes.fromhex(digest_hex), expires_at=expires_at, principal=principal)


def parse_key_ring(raw: str | bytes, *, default_scopes: tuple[str, ...] = ()) -> KeyRing:
    """Parse a ring value. Raises ValueError (without echoing content) if unusable.

    `default_scopes`: what an entry without `scopes` holds (every declared scope, in the product).
    """
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("key ring is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("key ring must be a JSON object of key id -> entry")
    entries: dict[bytes, KeyEntry] = {}
    for key_id, raw_entry in data.items():
        if not KEY_ID_RE.fullmatch(key_id):
            logger.warning("key ring entry skipped", extra={"reason": "invalid key id"})
            continue
        try:
            entries[key_id.encode()] = _entry(key_id, raw_entry, default_scopes)
        except (ValueError, TypeError, OverflowError) as exc:
            # Our own messages only (fixed strings); the key id is not secret.
            reason = str(exc) if isinstance(exc, ValueError) and str(exc) in _SAFE_REASONS else "invalid entry"
            logger.warning("key ring entry skipped", extra={"key_id": key_id, "reason": reason})
    return KeyRing(entries)


_SAFE_REASONS = frozenset(
    {
        "entry is not an object",
        "sha256 must be 64 hex characters",
        "name must be a string",
        "scopes must be a list of strings",
        "expires must be ISO-8601 or epoch seconds",
    }
)


def digest_hex(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new (key id, key). The key is shown once and never stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"

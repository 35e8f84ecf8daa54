"""Opaque, tamper-evident pagination cursors.

A cursor carries where the previous page stopped (an item id) and when it
expires. It is signed with HMAC-SHA256 over that payload *and* over the
caller's principal id and the query it was issued for, which are not in the
cursor: a cursor replayed by another caller, for another query, edited, or
signed with a key we do not hold fails the same check. It is signed, not
encrypted: the only thing it reveals is an id of the caller's own item.

Keys: the first key signs, every key verifies, so a key can be rotated
without breaking cursors already handed out. On Lambda the key must be the
same on every instance (see `ItemStoreSettings`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.errors import InvalidInput

_PREFIX = "c1."
MIN_KEY_BYTES = 32

INVALID_CURSOR = (
    "cursor is not valid for this request: pass back the next_cursor from the previous page "
    "of the same call (same caller, same query); otherwise start again without a cursor"
)
EXPIRED_CURSOR = "cursor has expired: start again without a cursor"


@dataclass(frozen=True)
class CursorPosition:
    """Where a page stopped: the next page starts after this item id."""

    after_id: str


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Seals and opens cursors. Pure: the clock is injected for tests."""

    def __init__(
        self,
        keys: Sequence[bytes] | Callable[[], Sequence[bytes]],
        *,
        ttl_s: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`keys` is a fixed list, or a provider read on every use (a rotating ring from SSM)."""
        if callable(keys):
            self._provider = keys
        else:
            fixed = self._checked(keys)
            self._provider = lambda: fixed
        self._ttl_s = ttl_s
        self._clock = clock

    @staticmethod
    def _checked(keys: Sequence[bytes]) -> tuple[bytes, ...]:
        if not keys:
            raise ValueError("at least one cursor key is required")
        if any(len(key) < MIN_KEY_BYTES for key in keys):
            raise ValueError(f"cursor keys must be at least {MIN_KEY_BYTES} bytes")
        return tuple(keys)

    @property
    def _keys(self) -> tuple[bytes, ...]:
        return self._checked(self._provider())

    def seal(self, position: CursorPosition, *, principal_id: str, query: str) -> str:
        payload = json.dumps(
            {"a": position.after_id, "e": int(self._clock()) + self._ttl_s},
            separators=(",", ":"),
        ).encode("utf-8")
        body = _b64encode(payload)
        return f"{_PREFIX}{body}.{_b64encode(self._mac(self._keys[0], body, principal_id, query))}"

    def open(self, cursor: str, *, principal_id: str, query: str) -> CursorPosition:
        """The position in `cursor`, or `InvalidInput` when it is forged, foreign or expired."""
        body, mac = self._split(cursor)
        if not any(hmac.compare_digest(mac, self._mac(key, body, principal_id, query)) for key in self._keys):
            raise InvalidInput(INVALID_CURSOR)
        # Only a payload we signed is parsed, so its shape can be trusted.
        payload = json.loads(_b64decode(body))
        if payload["e"] < self._clock():
            raise InvalidInput(EXPIRED_CURSOR)
        return CursorPosition(after_id=payload["a"])

    @staticmethod
    def _split(cursor: str) -> tuple[str, bytes]:
        if not isinstance(cursor, str) or not cursor.startswith(_PREFIX) or not cursor.isascii():
            raise InvalidInput(INVALID_CURSOR)
        body, sep, mac_text = cursor[len(_PREFIX) :].partition(".")
        try:
            mac = _b64decode(mac_text)
        except (binascii.Error, ValueError):
            raise InvalidInput(INVALID_CURSOR) from None
        if not sep or not body:
            raise InvalidInput(INVALID_CURSOR)
        return body, mac

    @staticmethod
    def _mac(key: bytes, body: str, principal_id: str, query: str) -> bytes:
        # Length-prefixed fields: no two different (principal, query, body)
        # triples can produce the same signed message.
        message = b"".join(
            len(part).to_bytes(4, "big") + part
            for part in (principal_id.encode("utf-8", "surrogatepass"), query.encode("utf-8"), body.encode("ascii"))
        )
        return hmac.new(key, message, hashlib.sha256).digest()

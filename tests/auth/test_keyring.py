"""Key format, ring parsing and constant-time verification (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest

from app.auth.keyring import KEY_ID_RE, key_id_of, parse_expiry, parse_key_ring

from .support import new_key, ring_json


def _verify(ring, key: str, now: float | None = None):  # type: ignore[no-untyped-def]
    token = key.encode()
    return ring.verify(token, hashlib.sha256(token).digest(), time.time() if now is None else now)


def test_generated_key_format() -> None:
    key = new_key()
    assert key.key.startswith(f"mcp_{key.key_id}_")
    assert KEY_ID_RE.fullmatch(key.key_id)
    assert len(key.secret) >= 43
    assert key_id_of(key.key.encode()) == key.key_id


def test_verify_ok_builds_principal_without_the_key() -> None:
    key = new_key()
    ring = parse_key_ring(ring_json((key, {"name": "ci-bot", "scopes": ["mcp:tools"]})))
    entry, reason = _verify(ring, key.key)
    assert reason == "ok" and entry is not None
    assert entry.principal.id == key.key_id
    assert entry.principal.kind == "api_key"
    assert entry.principal.name == "ci-bot"
    assert entry.principal.scopes == frozenset({"mcp:tools"})
    assert key.key not in repr(entry) and key.secret not in repr(entry)


def test_wrong_secret_unknown_id_and_malformed_are_refused() -> None:
    key, other = new_key(), new_key()
    ring = parse_key_ring(ring_json((key, {})))
    forged = f"mcp_{key.key_id}_{other.secret}"
    assert _verify(ring, forged) == (None, "key mismatch")
    assert _verify(ring, other.key) == (None, "unknown key id")
    assert _verify(ring, "mcp__abc") == (None, "malformed key")
    assert _verify(ring, "mcp_nounderscore") == (None, "malformed key")


@pytest.mark.parametrize("expires", ["2001-01-01T00:00:00Z", "2001-01-01T00:00:00", 978307200, "978307200"])
def test_expired_entries_are_refused(expires: object) -> None:
    key = new_key()
    ring = parse_key_ring(ring_json((key, {"expires": expires})))
    assert _verify(ring, key.key) == (None, "key expired")


def test_expiry_is_checked_against_the_given_time() -> None:
    key = new_key()
    ring = parse_key_ring(ring_json((key, {"expires": "2030-01-01T00:00:00+00:00"})))
    boundary = parse_expiry("2030-01-01T00:00:00Z")
    assert _verify(ring, key.key, now=boundary - 1)[1] == "ok"
    assert _verify(ring, key.key, now=boundary)[1] == "key expired"


def test_bad_entries_are_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    good, bad = new_key(), new_key()
    raw = json.loads(ring_json((good, {})))
    raw[bad.key_id] = {"sha256": "nothex"}
    raw["bad_id_with_underscore"] = {"sha256": "0" * 64}
    raw["x1"] = {"sha256": "0" * 64, "scopes": "not-a-list"}
    raw["x2"] = {"sha256": "0" * 64, "expires": "someday"}
    with caplog.at_level(logging.WARNING):
        ring = parse_key_ring(json.dumps(raw))
    assert len(ring) == 1
    assert _verify(ring, good.key)[1] == "ok"
    assert sum("skipped" in r.getMessage() for r in caplog.records) == 4


@pytest.mark.parametrize("raw", ["not json at all {", "[1, 2]", '"a string"'])
def test_unusable_ring_is_rejected_without_echoing_it(raw: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_key_ring(raw)
    assert raw not in str(info.value)


def test_key_id_of_refuses_non_keys() -> None:
    assert key_id_of(b"eyJhbGciOi.x.y") is None
    assert key_id_of(b"mcp_") is None
    assert key_id_of(b"mcp_" + b"a" * 100 + b"_s") is None

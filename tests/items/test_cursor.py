"""Cursors: opaque, bound to caller and query, tamper-evident, expiring."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.items.cursor import EXPIRED_CURSOR, INVALID_CURSOR, CursorCodec, CursorPosition

KEY = b"a" * 32
OTHER_KEY = b"b" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _codec(clock: Clock, keys: list[bytes] | None = None) -> CursorCodec:
    return CursorCodec(keys or [KEY], ttl_s=60, clock=clock)


def test_a_cursor_opens_for_the_same_caller_and_query() -> None:
    codec = _codec(Clock())
    cursor = codec.seal(CursorPosition("item-9"), principal_id="alice", query="q")
    assert codec.open(cursor, principal_id="alice", query="q") == CursorPosition("item-9")


@pytest.mark.parametrize(
    ("principal_id", "query"),
    [("bob", "q"), ("alice", "other query"), ("alic", "eq")],
    ids=["other-principal", "other-query", "shifted-boundary"],
)
def test_a_cursor_is_bound_to_caller_and_query(principal_id: str, query: str) -> None:
    codec = _codec(Clock())
    cursor = codec.seal(CursorPosition("x"), principal_id="alice", query="q")
    with pytest.raises(InvalidInput) as err:
        codec.open(cursor, principal_id=principal_id, query=query)
    assert str(err.value) == INVALID_CURSOR


def _flip_payload(cursor: str) -> str:
    body = cursor[3:].partition(".")[0]
    return cursor.replace(body, body[:-1] + ("A" if body[-1] != "A" else "B"))


@pytest.mark.parametrize(
    "forge",
    [
        _flip_payload,
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: "c1.e30.AAAA",
        lambda c: "garbage",
        lambda c: "c1.",
        lambda c: "c1.abc",
        lambda c: "c1.abc.@@@",
        lambda c: c + "é",
        lambda c: "",
    ],
    ids=[
        "payload-edited",
        "mac-edited",
        "unsigned",
        "garbage",
        "prefix-only",
        "no-mac",
        "bad-base64",
        "non-ascii",
        "empty",
    ],
)
def test_forged_cursors_are_refused(forge: object) -> None:
    codec = _codec(Clock())
    cursor = codec.seal(CursorPosition("x"), principal_id="alice", query="q")
    with pytest.raises(InvalidInput) as err:
        codec.open(forge(cursor), principal_id="alice", query="q")  # type: ignore[operator]
    assert str(err.value) == INVALID_CURSOR


def test_a_cursor_signed_with_an_unknown_key_is_refused() -> None:
    clock = Clock()
    cursor = _codec(clock, [OTHER_KEY]).seal(CursorPosition("x"), principal_id="alice", query="q")
    with pytest.raises(InvalidInput, match="not valid"):
        _codec(clock).open(cursor, principal_id="alice", query="q")


def test_an_expired_cursor_says_so() -> None:
    clock = Clock()
    codec = _codec(clock)
    cursor = codec.seal(CursorPosition("x"), principal_id="alice", query="q")
    clock.now += 61
    with pytest.raises(InvalidInput) as err:
        codec.open(cursor, principal_id="alice", query="q")
    assert str(err.value) == EXPIRED_CURSOR


def test_rotation_old_key_still_verifies_new_key_signs() -> None:
    clock = Clock()
    old = _codec(clock, [KEY])
    rotated = _codec(clock, [OTHER_KEY, KEY])
    legacy_cursor = old.seal(CursorPosition("x"), principal_id="alice", query="q")
    assert rotated.open(legacy_cursor, principal_id="alice", query="q").after_id == "x"
    with pytest.raises(InvalidInput):
        old.open(rotated.seal(CursorPosition("y"), principal_id="alice", query="q"), principal_id="alice", query="q")


def test_the_cursor_does_not_carry_the_principal() -> None:
    cursor = _codec(Clock()).seal(CursorPosition("x"), principal_id="alice-secret-id", query="q")
    assert "alice" not in cursor


@pytest.mark.parametrize("keys", [[], [b"short"]], ids=["no-key", "short-key"])
def test_weak_keys_are_refused(keys: list[bytes]) -> None:
    with pytest.raises(ValueError):
        CursorCodec(keys)

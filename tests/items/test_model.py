"""Validation rules of the domain model: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import InvalidInput
from app.core.timestamps import format_timestamp, parse_timestamp
from app.items import model
from app.items.model import Item, ItemDraft, ItemPatch, SearchQuery


@pytest.mark.parametrize(
    "title",
    ["a", "x" * model.TITLE_MAX_CHARS, "Ünïcødé ✓", "emoji 🎉 title"],
    ids=["one-char", "at-limit", "accents", "emoji"],
)
def test_valid_titles_are_kept_as_given(title: str) -> None:
    assert model.check_title(title) == title


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("x" * (model.TITLE_MAX_CHARS + 1), "too long"),
        ("two\nlines", "control character"),
        ("nul\x00byte", "control character"),
        ("lone \ud800 surrogate", "lone surrogate"),
    ],
    ids=["empty", "whitespace", "too-long", "newline", "nul", "lone-surrogate"],
)
def test_invalid_titles_are_refused_with_a_reason(title: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        model.check_title(title)


def test_body_limit_counts_utf8_bytes_not_characters() -> None:
    assert model.check_body("a" * model.BODY_MAX_BYTES)
    # 2 bytes per character: within the character count, over the byte count.
    with pytest.raises(InvalidInput, match="bytes of UTF-8"):
        model.check_body("é" * (model.BODY_MAX_BYTES // 2 + 1))


@pytest.mark.parametrize(
    "body",
    ["", "line one\nline two\r\n\tindented", "# Markdown *ok*"],
    ids=["empty", "newlines-and-tabs", "markdown"],
)
def test_bodies_allow_line_breaks_and_tabs(body: str) -> None:
    assert model.check_body(body) == body


@pytest.mark.parametrize("body", ["bell\x07", "lone \udfff"], ids=["control-char", "lone-surrogate"])
def test_bodies_refuse_other_controls_and_surrogates(body: str) -> None:
    with pytest.raises(InvalidInput):
        model.check_body(body)


def test_tags_are_deduplicated_and_sorted() -> None:
    assert model.normalize_tags(["b", "a", "b", "c-1", "d_2"]) == ("a", "b", "c-1", "d_2")


@pytest.mark.parametrize(
    "tags",
    [
        ["Upper"],
        ["with space"],
        [""],
        ["x" * (model.TAG_MAX_CHARS + 1)],
        [f"t{i}" for i in range(model.TAGS_MAX + 1)],
        "notalist",
    ],
    ids=["uppercase", "space", "empty", "too-long", "too-many", "string-not-list"],
)
def test_invalid_tags_are_refused(tags: list[str] | str) -> None:
    with pytest.raises(InvalidInput):
        model.normalize_tags(tags)


def test_twenty_distinct_tags_are_fine_even_with_repeats() -> None:
    tags = [f"t{i}" for i in range(model.TAGS_MAX)] * 2
    assert len(model.normalize_tags(tags)) == model.TAGS_MAX


def test_fingerprint_ignores_tag_order_but_not_content() -> None:
    one = ItemDraft.parse("t", "b", ["x", "y"])
    assert one.fingerprint() == ItemDraft.parse("t", "b", ["y", "x", "x"]).fingerprint()
    assert one.fingerprint() != ItemDraft.parse("t", "b2", ["x", "y"]).fingerprint()


def test_an_empty_patch_is_refused() -> None:
    with pytest.raises(InvalidInput, match="nothing to update"):
        ItemPatch.parse(None, None, None)


def test_a_patch_changes_only_what_it_names() -> None:
    item = _item(title="old", body="body", tags=("a",))
    patched = item.apply(ItemPatch.parse("new", None, None))
    assert (patched.title, patched.body, patched.tags) == ("new", "body", ("a",))
    assert item.apply(ItemPatch.parse(None, None, [])).tags == ()


@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("HELLO", None, True),
        ("straße", None, True),
        ("missing", None, False),
        (None, ["a"], True),
        (None, ["a", "b"], True),
        (None, ["a", "z"], False),
        ("world", ["b"], True),
        ("world", ["z"], False),
    ],
    ids=[
        "case-insensitive",
        "casefold",
        "no-match",
        "one-tag",
        "all-tags",
        "missing-tag",
        "text-and-tag",
        "text-wrong-tag",
    ],
)
def test_search_matches_text_in_title_or_body_and_all_tags(
    text: str | None, tags: list[str] | None, expected: bool
) -> None:
    item = _item(title="Hello", body="big wide world, STRASSE", tags=("a", "b"))
    assert SearchQuery.parse(text, tags, "newest").matches(item) is expected


@pytest.mark.parametrize(
    ("text", "tags"), [(None, None), (None, []), ("   ", None)], ids=["nothing", "empty-tags", "blank-text"]
)
def test_search_needs_text_or_tags(text: str | None, tags: list[str] | None) -> None:
    with pytest.raises(InvalidInput):
        SearchQuery.parse(text, tags, "newest")


def test_item_ids_sort_by_creation_time() -> None:
    earlier = model.new_item_id(datetime(2030, 1, 1, tzinfo=UTC), "zzzz")
    later = model.new_item_id(datetime(2030, 1, 1, 0, 0, 0, 1000, tzinfo=UTC), "AAAA")
    assert earlier < later
    assert model.check_item_id(earlier) == earlier


@pytest.mark.parametrize(
    "item_id",
    ["", "has space", "../etc", "x" * (model.ITEM_ID_MAX_CHARS + 1), "é"],
    ids=["empty", "space", "path", "too-long", "non-ascii"],
)
def test_malformed_ids_are_refused(item_id: str) -> None:
    with pytest.raises(InvalidInput, match="malformed item id"):
        model.check_item_id(item_id)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (1, True),
        (model.PAGE_LIMIT_MAX, True),
        (0, False),
        (model.PAGE_LIMIT_MAX + 1, False),
        (True, False),
        ("5", False),
    ],
    ids=["min", "max", "zero", "over", "bool", "string"],
)
def test_limit_bounds(value: object, ok: bool) -> None:
    if ok:
        assert model.check_limit(value) == value  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidInput):
            model.check_limit(value)  # type: ignore[arg-type]


def test_timestamps_round_trip_as_utc_text() -> None:
    moment = datetime(2030, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    text = format_timestamp(moment)
    assert text == "2030-05-06T07:08:09.123Z"
    assert parse_timestamp(text) == moment


def test_snippet_is_one_short_line() -> None:
    item = _item(body="first line\nsecond " + "x" * 500)
    assert "\n" not in item.snippet()
    assert len(item.snippet()) == model.SNIPPET_CHARS


def _item(title: str = "t", body: str = "", tags: tuple[str, ...] = ()) -> Item:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    return Item(id="id1", title=title, body=body, tags=tags, version=1, created_at=now, updated_at=now)

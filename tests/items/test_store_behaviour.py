"""The behaviour suite: the same tests against SQLite and DynamoDB (moto).

The first half exercises the port directly (the adapter contract); the
second runs the service over each adapter, as the tools do.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.core.errors import Conflict, InvalidInput, NotFound
from app.items import model
from app.items.model import Item
from app.items.port import IdempotencyRecord, ItemStore
from app.items.service import ItemService

from .conftest import ALICE, BOB, FakeClock


def _item(clock: FakeClock, n: int = 0, **fields: object) -> Item:
    clock.advance(milliseconds=1)
    base = Item(
        id=model.new_item_id(clock.now, f"token{n:04d}"),
        title=f"title {n}",
        body="",
        tags=(),
        version=1,
        created_at=clock.now,
        updated_at=clock.now,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _record(item: Item, clock: FakeClock, key: str = "k1", fingerprint: str = "f1") -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key, item_id=item.id, fingerprint=fingerprint, expires_at=clock.now + timedelta(hours=1)
    )


# --- the port -----------------------------------------------------------------


def test_round_trip_keeps_every_field(store: ItemStore, clock: FakeClock) -> None:
    item = _item(clock, title="Ünïcødé 🎉", body="é" * (model.BODY_MAX_BYTES // 2), tags=("a", "b-c", "d_e"))
    assert store.create("alice", item, None, clock.now) is None
    assert store.get("alice", item.id) == item


def test_empty_body_and_no_tags_round_trip(store: ItemStore, clock: FakeClock) -> None:
    item = _item(clock)
    store.create("alice", item, None, clock.now)
    assert store.get("alice", item.id) == item


def test_items_are_partitioned_by_principal(store: ItemStore, clock: FakeClock) -> None:
    item = _item(clock)
    store.create("alice", item, None, clock.now)
    assert store.get("bob", item.id) is None
    assert store.count("bob") == 0
    assert store.page("bob", order="newest", after_id=None, limit=10).items == ()
    assert store.replace("bob", replace(item, version=2, title="hijack"), 1) == "missing"
    assert store.delete("bob", item.id, None) == "missing"
    assert store.get("alice", item.id) == item


def test_an_idempotency_key_is_taken_once(store: ItemStore, clock: FakeClock) -> None:
    first = _item(clock, 1)
    record = _record(first, clock)
    assert store.create("alice", first, record, clock.now) is None
    second = _item(clock, 2)
    existing = store.create("alice", second, _record(second, clock, fingerprint="f2"), clock.now)
    assert existing is not None
    assert (existing.item_id, existing.fingerprint) == (first.id, "f1")
    assert store.get("alice", second.id) is None, "nothing is written when the key is taken"
    assert store.count("alice") == 1


def test_an_expired_idempotency_key_is_free_again(store: ItemStore, clock: FakeClock) -> None:
    first = _item(clock, 1)
    store.create("alice", first, _record(first, clock), clock.now)
    clock.advance(hours=2)
    second = _item(clock, 2)
    assert store.create("alice", second, _record(second, clock), clock.now) is None
    assert store.count("alice") == 2


def test_idempotency_keys_are_partitioned_by_principal(store: ItemStore, clock: FakeClock) -> None:
    a, b = _item(clock, 1), _item(clock, 2)
    assert store.create("alice", a, _record(a, clock), clock.now) is None
    assert store.create("bob", b, _record(b, clock), clock.now) is None


def test_replace_is_conditional_on_the_version(store: ItemStore, clock: FakeClock) -> None:
    item = _item(clock)
    store.create("alice", item, None, clock.now)
    v2 = replace(item, title="v2", version=2)
    assert store.replace("alice", v2, 1) == "ok"
    assert store.replace("alice", replace(item, title="late", version=2), 1) == "stale"
    assert store.get("alice", item.id) == v2
    assert store.replace("alice", replace(_item(clock, 9), version=2), 1) == "missing"


def test_delete_outcomes(store: ItemStore, clock: FakeClock) -> None:
    item = _item(clock)
    store.create("alice", item, None, clock.now)
    assert store.delete("alice", item.id, 7) == "stale"
    assert store.delete("alice", item.id, 1) == "ok"
    assert store.delete("alice", item.id, None) == "missing"
    assert store.get("alice", item.id) is None


@pytest.mark.parametrize("order", ["newest", "oldest"], ids=["newest", "oldest"])
def test_pages_follow_creation_order(store: ItemStore, clock: FakeClock, order: model.Order) -> None:
    items = [_item(clock, n) for n in range(7)]
    for item in items:
        store.create("alice", item, None, clock.now)
    expected = [i.id for i in (items if order == "oldest" else reversed(items))]
    first = store.page("alice", order=order, after_id=None, limit=3)
    assert [i.id for i in first.items] == expected[:3] and first.has_more
    rest = store.page("alice", order=order, after_id=first.items[-1].id, limit=10)
    assert [i.id for i in rest.items] == expected[3:] and not rest.has_more


def test_a_page_can_start_after_a_deleted_item(store: ItemStore, clock: FakeClock) -> None:
    items = [_item(clock, n) for n in range(3)]
    for item in items:
        store.create("alice", item, None, clock.now)
    store.delete("alice", items[1].id, None)
    page = store.page("alice", order="oldest", after_id=items[1].id, limit=10)
    assert [i.id for i in page.items] == [items[2].id]


def test_exactly_full_page_has_no_more(store: ItemStore, clock: FakeClock) -> None:
    for n in range(3):
        store.create("alice", _item(clock, n), None, clock.now)
    page = store.page("alice", order="newest", after_id=None, limit=3)
    assert len(page.items) == 3 and not page.has_more


def test_idempotency_records_are_not_items(store: ItemStore, clock: FakeClock) -> None:
    item = _item(clock)
    store.create("alice", item, _record(item, clock), clock.now)
    assert store.count("alice") == 1
    assert [i.id for i in store.page("alice", order="oldest", after_id=None, limit=10).items] == [item.id]


# --- the service over each backend ---------------------------------------------


def test_add_get_update_delete(service: ItemService) -> None:
    added = service.add(ALICE, "Groceries", "milk\neggs", ["home", "todo"]).item
    assert service.get(ALICE, added.id) == added
    updated = service.update(ALICE, added.id, 1, tags=["home"])
    assert service.get(ALICE, added.id) == updated and updated.tags == ("home",)
    service.delete(ALICE, added.id, expected_version=2)
    with pytest.raises(NotFound):
        service.get(ALICE, added.id)


def test_retried_add_does_not_duplicate(service: ItemService) -> None:
    first = service.add(ALICE, "t", "b", idempotency_key="req-42")
    second = service.add(ALICE, "t", "b", idempotency_key="req-42")
    assert second.item.id == first.item.id and not second.created
    assert service.count(ALICE) == 1
    with pytest.raises(Conflict):
        service.add(ALICE, "different", "b", idempotency_key="req-42")
    assert service.count(ALICE) == 1


def test_stale_update_fails_cleanly_and_keeps_the_winner(service: ItemService) -> None:
    item = service.add(ALICE, "t").item
    winner = service.update(ALICE, item.id, 1, body="winner")
    with pytest.raises(Conflict, match="Read it again"):
        service.update(ALICE, item.id, 1, body="loser")
    assert service.get(ALICE, item.id) == winner


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"title": "x" * (model.TITLE_MAX_CHARS + 1)},
        {"title": "ok", "body": "x" * (model.BODY_MAX_BYTES + 1)},
        {"title": "ok", "tags": ["Bad Tag"]},
        {"title": "ok", "tags": [f"t{i}" for i in range(model.TAGS_MAX + 1)]},
        {"title": "bad \ud800"},
        {"title": "ok", "body": "bad \udc00"},
        {"title": "ok", "idempotency_key": "has space"},
        {"title": 42},
    ],
    ids=[
        "empty-title",
        "long-title",
        "big-body",
        "bad-tag",
        "too-many-tags",
        "surrogate-title",
        "surrogate-body",
        "bad-key",
        "wrong-type",
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(service: ItemService, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        service.add(ALICE, **bad)  # type: ignore[arg-type]
    assert service.count(ALICE) == 0


def test_bad_update_leaves_the_item_untouched(service: ItemService) -> None:
    item = service.add(ALICE, "t", "b").item
    with pytest.raises(InvalidInput):
        service.update(ALICE, item.id, 1, title="new", body="x\ud800")
    assert service.get(ALICE, item.id) == item


def test_list_pages_with_cursors(service: ItemService, clock: FakeClock) -> None:
    ids = []
    for n in range(5):
        clock.advance(milliseconds=1)
        ids.append(service.add(ALICE, f"n{n}").item.id)
    seen, cursor = [], None
    while True:
        page = service.list_items(ALICE, order="newest", limit=2, cursor=cursor)
        seen += [i.id for i in page.items]
        if not (cursor := page.next_cursor):
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    "cursor", ["c1.e30.AAAA", "not-a-cursor", "c1." + "A" * 40 + "." + "B" * 43], ids=["unsigned", "garbage", "forged"]
)
def test_forged_cursor_is_refused(service: ItemService, cursor: str) -> None:
    service.add(ALICE, "t")
    with pytest.raises(InvalidInput, match="cursor is not valid"):
        service.list_items(ALICE, cursor=cursor)


def test_expired_cursor_is_refused(service: ItemService, clock: FakeClock) -> None:
    for n in range(3):
        clock.advance(milliseconds=1)
        service.add(ALICE, f"n{n}")
    cursor = service.list_items(ALICE, limit=1).next_cursor
    assert cursor is not None
    clock.advance(hours=2)
    with pytest.raises(InvalidInput, match="expired"):
        service.list_items(ALICE, cursor=cursor)


def test_search_by_text_and_tags(service: ItemService, clock: FakeClock) -> None:
    service.add(ALICE, "Meeting notes", "Discussed the ROADMAP", ["work", "q3"])
    clock.advance(milliseconds=1)
    service.add(ALICE, "Recipe", "roadmap to a good soup", ["home"])
    clock.advance(milliseconds=1)
    service.add(BOB, "Bob's roadmap", "", ["work"])
    by_text = service.search(ALICE, text="roadmap")
    assert sorted(i.title for i in by_text.items) == ["Meeting notes", "Recipe"]
    assert [i.title for i in service.search(ALICE, text="roadmap", tags=["work"]).items] == ["Meeting notes"]
    assert service.search(ALICE, tags=["work", "home"]).items == ()


def test_one_principal_cannot_see_or_touch_another(service: ItemService) -> None:
    secret = service.add(ALICE, "alice's secret", "s3cr3t", ["private"]).item
    assert service.list_items(BOB).items == ()
    assert service.search(BOB, text="secret").items == ()
    assert service.count(BOB) == 0
    assert secret.id not in service.suggest_ids(BOB, "")
    assert service.suggest_tags(BOB, "") == []
    unknown_id = secret.id[:-1] + ("A" if secret.id[-1] != "A" else "B")
    with pytest.raises(NotFound) as unknown:
        service.get(BOB, unknown_id)
    with pytest.raises(NotFound) as unknown_delete:
        service.delete(BOB, unknown_id)
    for attempt, expected in (
        (lambda: service.get(BOB, secret.id), unknown),
        (lambda: service.update(BOB, secret.id, 1, title="mine now"), unknown),
        # A delete's "not found" adds the same retry hint for every id (issue 20, item 5).
        (lambda: service.delete(BOB, secret.id), unknown_delete),
    ):
        with pytest.raises(NotFound) as foreign:
            attempt()
        # Same answer for "someone else's" and "never existed", bar the id echoed back.
        assert str(foreign.value).replace(secret.id, "<id>") == str(expected.value).replace(unknown_id, "<id>")
    assert service.get(ALICE, secret.id) == secret

"""Service logic over an in-memory store: ids, versions, idempotency, paging."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from app.core.errors import Conflict, InvalidInput, NotFound
from app.items.cursor import CursorCodec
from app.items.service import RETRIED_DELETE_HINT, SEARCH_SCAN_BUDGET, ItemService

from .conftest import ALICE, BOB, TEST_KEY, FakeClock
from .fakes import MemoryItemStore


@pytest.fixture
def memory() -> MemoryItemStore:
    return MemoryItemStore()


@pytest.fixture
def svc(memory: MemoryItemStore, clock: FakeClock) -> ItemService:
    tokens = (f"tok{n:04d}" for n in itertools.count())
    return ItemService(
        memory,
        CursorCodec([TEST_KEY], ttl_s=600, clock=clock.timestamp),
        idempotency_window=timedelta(hours=1),
        clock=clock,
        new_token=lambda: next(tokens),
    )


def test_ids_are_time_prefix_plus_the_random_token(svc: ItemService, clock: FakeClock) -> None:
    item = svc.add(ALICE, "t").item
    assert item.id == f"{int(clock.timestamp() * 1000):012x}tok0000"
    assert item.version == 1


def test_default_ids_carry_128_random_bits() -> None:
    svc = ItemService(MemoryItemStore(), CursorCodec([TEST_KEY]))
    ids = {svc.add(ALICE, "t").item.id[12:] for _ in range(50)}
    assert len(ids) == 50
    assert all(len(token) == 22 for token in ids)  # token_urlsafe(16): 16 bytes, base64url


def test_idempotent_add_returns_the_first_result(svc: ItemService, memory: MemoryItemStore) -> None:
    first = svc.add(ALICE, "t", "b", ["x"], idempotency_key="key-1")
    again = svc.add(ALICE, "t", "b", ["x", "x"], idempotency_key="key-1")
    assert (first.created, again.created) == (True, False)
    assert again.item == first.item
    assert len(memory.items) == 1


def test_idempotency_key_with_other_content_is_a_conflict(svc: ItemService, memory: MemoryItemStore) -> None:
    svc.add(ALICE, "t", idempotency_key="key-1")
    with pytest.raises(Conflict, match="different"):
        svc.add(ALICE, "other", idempotency_key="key-1")
    assert len(memory.items) == 1


def test_idempotency_keys_are_per_principal(svc: ItemService) -> None:
    a = svc.add(ALICE, "t", idempotency_key="shared")
    b = svc.add(BOB, "t", idempotency_key="shared")
    assert a.created and b.created and a.item.id != b.item.id


def test_an_expired_idempotency_key_creates_again(svc: ItemService, clock: FakeClock) -> None:
    first = svc.add(ALICE, "t", idempotency_key="key-1")
    clock.advance(hours=2)
    second = svc.add(ALICE, "t", idempotency_key="key-1")
    assert second.created and second.item.id != first.item.id


def test_replay_after_delete_is_a_conflict_not_a_resurrection(svc: ItemService, memory: MemoryItemStore) -> None:
    first = svc.add(ALICE, "t", idempotency_key="key-1")
    svc.delete(ALICE, first.item.id)
    with pytest.raises(Conflict, match="deleted"):
        svc.add(ALICE, "t", idempotency_key="key-1")
    assert memory.items == {}


def test_replay_returns_the_item_as_it_is_now(svc: ItemService) -> None:
    first = svc.add(ALICE, "t", idempotency_key="key-1")
    svc.update(ALICE, first.item.id, 1, body="changed")
    assert svc.add(ALICE, "t", idempotency_key="key-1").item.version == 2


def test_update_bumps_version_and_timestamp(svc: ItemService, clock: FakeClock) -> None:
    item = svc.add(ALICE, "t").item
    clock.advance(seconds=5)
    updated = svc.update(ALICE, item.id, 1, title="new")
    assert (updated.version, updated.title, updated.created_at) == (2, "new", item.created_at)
    assert updated.updated_at == item.updated_at + timedelta(seconds=5)


def test_stale_version_is_a_conflict_that_names_the_current_version(svc: ItemService) -> None:
    item = svc.add(ALICE, "t").item
    svc.update(ALICE, item.id, 1, body="one")
    with pytest.raises(Conflict, match=r"now at version 2.*items_get"):
        svc.update(ALICE, item.id, 1, body="two")
    assert svc.get(ALICE, item.id).body == "one"


def test_an_update_that_changes_nothing_writes_nothing(svc: ItemService) -> None:
    item = svc.add(ALICE, "t", "b").item
    assert svc.update(ALICE, item.id, 1, title="t", body="b") == item


def test_a_retried_update_answers_with_the_current_item(svc: ItemService) -> None:
    item = svc.add(ALICE, "t").item
    done = svc.update(ALICE, item.id, 1, body="new")
    # Same request again, e.g. after a timeout: already applied, so no conflict.
    assert svc.update(ALICE, item.id, 1, body="new") == done


@pytest.mark.parametrize(
    "call",
    [
        lambda s, i: s.get(BOB, i),
        lambda s, i: s.update(BOB, i, 1, title="x"),
        lambda s, i: s.delete(BOB, i),
        lambda s, i: s.get(ALICE, "0" * 12 + "unknown"),
    ],
    ids=["get", "update", "delete", "unknown-id"],
)
def test_foreign_and_unknown_ids_answer_the_same_not_found(svc: ItemService, call: object) -> None:
    item = svc.add(ALICE, "t").item
    with pytest.raises(NotFound) as err:
        call(svc, item.id)  # type: ignore[operator]
    assert str(err.value).endswith(("not found", "not found" + RETRIED_DELETE_HINT))
    assert svc.get(ALICE, item.id) == item


def test_delete_with_stale_version_is_a_conflict(svc: ItemService) -> None:
    item = svc.add(ALICE, "t").item
    svc.update(ALICE, item.id, 1, body="x")
    with pytest.raises(Conflict):
        svc.delete(ALICE, item.id, expected_version=1)
    svc.delete(ALICE, item.id, expected_version=2)
    with pytest.raises(NotFound):
        svc.get(ALICE, item.id)


def _add_many(svc: ItemService, clock: FakeClock, n: int, **kwargs: object) -> list[str]:
    ids = []
    for i in range(n):
        clock.advance(milliseconds=1)
        ids.append(svc.add(ALICE, f"item {i}", **kwargs).item.id)  # type: ignore[arg-type]
    return ids


def test_search_stops_at_its_scan_budget_and_hands_out_a_cursor(
    svc: ItemService, memory: MemoryItemStore, clock: FakeClock
) -> None:
    _add_many(svc, clock, SEARCH_SCAN_BUDGET + 50)
    page = svc.search(ALICE, text="no such text", limit=10)
    assert page.items == () and page.next_cursor is not None
    rest = svc.search(ALICE, text="no such text", limit=10, cursor=page.next_cursor)
    assert rest.items == () and rest.next_cursor is None


def test_search_pages_through_matches_without_gaps_or_repeats(svc: ItemService, clock: FakeClock) -> None:
    ids = _add_many(svc, clock, 25, tags=["even"])
    seen: list[str] = []
    cursor = None
    while True:
        page = svc.search(ALICE, tags=["even"], order="oldest", limit=7, cursor=cursor)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ids


def test_a_list_cursor_is_refused_by_search_and_by_another_order(svc: ItemService, clock: FakeClock) -> None:
    _add_many(svc, clock, 3)
    cursor = svc.list_items(ALICE, limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput, match="not valid"):
        svc.search(ALICE, text="item", cursor=cursor)
    with pytest.raises(InvalidInput, match="not valid"):
        svc.list_items(ALICE, order="oldest", cursor=cursor)
    with pytest.raises(InvalidInput, match="not valid"):
        svc.list_items(BOB, cursor=cursor)


def test_a_list_cursor_survives_a_different_page_size(svc: ItemService, clock: FakeClock) -> None:
    ids = _add_many(svc, clock, 5)
    first = svc.list_items(ALICE, order="oldest", limit=2)
    assert first.next_cursor is not None
    second = svc.list_items(ALICE, order="oldest", limit=10, cursor=first.next_cursor)
    assert [i.id for i in first.items + second.items] == ids


def test_cursors_expire(svc: ItemService, clock: FakeClock) -> None:
    _add_many(svc, clock, 3)
    cursor = svc.list_items(ALICE, limit=1).next_cursor
    assert cursor is not None
    clock.advance(seconds=601)
    with pytest.raises(InvalidInput, match="expired"):
        svc.list_items(ALICE, cursor=cursor)


def test_suggestions_are_the_callers_own(svc: ItemService) -> None:
    svc.add(ALICE, "t", tags=["alpha", "beta"])
    svc.add(BOB, "t", tags=["alps"])
    assert svc.suggest_tags(ALICE, "al") == ["alpha"]
    bob_id = svc.add(BOB, "u").item.id
    assert bob_id not in svc.suggest_ids(ALICE, "")

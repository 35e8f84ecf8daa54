"""Parallel calls against each backend: no duplicates, no lost writes, no leaks.

Threads stand in for concurrent Lambda invocations (or concurrent requests
on a local server); each call goes through the service as a tool's would.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from app.core.errors import Conflict
from app.core.errors import StoreUnavailable
from app.items.service import AddOutcome, ItemService

from .conftest import ALICE, BOB

WORKERS = 8
MAX_ATTEMPTS = 200


def test_parallel_adds_with_and_without_repeated_keys(service: ItemService) -> None:
    keys = [f"key-{k}" for k in range(5)]
    calls: list[tuple[str, str, str | None]] = [("plain", f"plain {n}", None) for n in range(20)]
    calls += [("keyed", f"content for {key}", key) for key in keys for _ in range(4)]

    def add(call: tuple[str, str, str | None]) -> tuple[str | None, AddOutcome]:
        _, title, key = call
        return key, service.add(ALICE, title, idempotency_key=key)

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(add, calls))

    by_key: dict[str, set[str]] = {}
    created_per_key: Counter[str] = Counter()
    for key, outcome in results:
        if key is not None:
            by_key.setdefault(key, set()).add(outcome.item.id)
            created_per_key[key] += outcome.created
    assert all(len(ids) == 1 for ids in by_key.values()), "one item per idempotency key"
    assert created_per_key == Counter({key: 1 for key in keys}), "exactly one call per key created it"
    assert service.count(ALICE) == 20 + len(keys)
    all_ids = [outcome.item.id for key, outcome in results if key is None] + [ids.pop() for ids in by_key.values()]
    assert len(set(all_ids)) == len(all_ids)


def test_parallel_updates_lose_nothing(service: ItemService) -> None:
    item = service.add(ALICE, "counter", "").item
    per_worker = 5

    def writer(worker: int) -> int:
        """Append this worker's marks one by one, re-reading after every conflict."""
        written = 0
        for _ in range(MAX_ATTEMPTS):
            if written == per_worker:
                break
            current = service.get(ALICE, item.id)
            mark = f"w{worker}-{written}"
            try:
                service.update(ALICE, item.id, current.version, body=current.body + mark + "\n")
            except (Conflict, StoreUnavailable):
                continue
            written += 1
        return written

    with ThreadPoolExecutor(WORKERS) as pool:
        successes = sum(pool.map(writer, range(WORKERS)))

    final = service.get(ALICE, item.id)
    marks = final.body.split()
    assert successes == WORKERS * per_worker
    assert final.version == 1 + successes, "every successful update is one version"
    assert sorted(marks) == sorted(f"w{w}-{n}" for w in range(WORKERS) for n in range(per_worker)), "no lost write"


def test_parallel_same_version_updates_have_exactly_one_winner(service: ItemService) -> None:
    item = service.add(ALICE, "race", "").item

    def update(worker: int) -> str:
        try:
            service.update(ALICE, item.id, 1, body=f"from {worker}")
        except Conflict:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = Counter(pool.map(update, range(WORKERS)))
    assert outcomes == Counter({"ok": 1, "conflict": WORKERS - 1})
    final = service.get(ALICE, item.id)
    assert final.version == 2 and final.body.startswith("from ")


def test_parallel_principals_stay_isolated(service: ItemService) -> None:
    def add(n: int) -> None:
        principal = ALICE if n % 2 else BOB
        service.add(principal, f"{principal.id} {n % 3}", idempotency_key=f"same-key-{n % 3}")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(add, range(30)))
    # The same keys are used by both, independently: 3 items each.
    for principal in (ALICE, BOB):
        page = service.list_items(principal, limit=100)
        assert len(page.items) == 3
        assert all(item.title.startswith(principal.id) for item in page.items)

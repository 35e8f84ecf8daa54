"""RefreshingCache: TTL, stale-while-revalidate, rate-limited forced refresh, last good value, fail closed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.auth.cache import RefreshingCache
from app.core.errors import SecretUnavailable

from .support import FakeClock


class Source:
    def __init__(self) -> None:
        self.value = "v1"
        self.down = False
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.down:
            raise ConnectionError("secret-looking detail sk-should-not-be-logged")
        return self.value


def make(source: Source, clock: FakeClock) -> RefreshingCache[str]:
    return RefreshingCache(source, label="test", ttl=300, min_interval=10, clock=clock)


def test_ttl(clock: FakeClock) -> None:
    source = Source()
    cache = make(source, clock)
    assert cache.peek() is None
    assert cache.get() == "v1"
    for _ in range(100):
        assert cache.peek() == "v1"
        assert cache.get() == "v1"
    assert source.calls == 1
    source.value = "v2"
    clock.advance(299)
    assert cache.get() == "v1"
    clock.advance(2)
    assert cache.peek() is None
    assert cache.get() == "v1"  # stale, at once; the refresh runs in the background
    assert cache.wait_for_refresh(timeout=30)
    assert cache.get() == "v2"
    assert source.calls == 2


def test_forced_refresh_is_rate_limited(clock: FakeClock) -> None:
    source = Source()
    cache = make(source, clock)
    cache.get()
    clock.advance(10)
    source.value = "v2"
    assert cache.can_force()
    assert cache.get(force=True) == "v2"
    for _ in range(50):
        assert not cache.can_force()
        assert cache.get(force=True) == "v2"
    assert source.calls == 2
    clock.advance(10)
    assert cache.get(force=True) == "v2"
    assert source.calls == 3


def test_failed_refresh_keeps_last_good_and_waits_before_retrying(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    source = Source()
    cache = make(source, clock)
    cache.get()
    source.down = True
    clock.advance(301)
    with caplog.at_level(logging.WARNING):
        assert cache.get() == "v1"
        assert cache.wait_for_refresh(timeout=30)
    assert any(getattr(r, "operation", "") == "refresh failed; last good value kept" for r in caplog.records)
    # The last good value is served from the hot path until a retry is allowed.
    for _ in range(20):
        assert cache.peek() == "v1"
        assert cache.get() == "v1"
    assert source.calls == 2
    clock.advance(10)
    source.down = False
    source.value = "v2"
    assert cache.get() == "v1"
    assert cache.wait_for_refresh(timeout=30)
    assert cache.get() == "v2"
    assert source.calls == 3


def test_no_value_ever_loaded_fails_closed_without_hammering(clock: FakeClock) -> None:
    source = Source()
    source.down = True
    cache = make(source, clock)
    for _ in range(20):
        with pytest.raises(SecretUnavailable):
            cache.get()
    assert source.calls == 1
    clock.advance(10)
    source.down = False
    assert cache.get() == "v1"
    assert source.calls == 2


# -- a slow source (issue 8, item 9): stale-while-revalidate ------------------


class SlowSource:
    """A loader that blocks (like a blackholed SSM) until the test opens the gate."""

    def __init__(self, value: str = "v1") -> None:
        self.value = value
        self.fail = False
        self.calls = 0
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __call__(self) -> str:
        self.calls += 1
        self.entered.set()
        self.gate.wait(30)  # bounded: a broken test cannot hang the suite
        if self.fail:
            raise TimeoutError("read timed out")
        return self.value


def loaded(source: SlowSource, clock: FakeClock, **options: float) -> RefreshingCache[str]:
    cache = RefreshingCache(source, label="slow", ttl=300, min_interval=10, clock=clock, **options)  # type: ignore[arg-type]
    source.gate.set()
    assert cache.get() == "v1"
    source.gate.clear()
    source.entered.clear()
    return cache


def in_threads(count: int, call: Callable[[], str]) -> list[str]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_slow_refresh_does_not_block_callers_with_a_last_good_value(clock: FakeClock) -> None:
    source = SlowSource()
    cache = loaded(source, clock)
    source.value = "v2"
    clock.advance(301)
    # 20 callers, stale value, the source hangs: all answered while the refresh is still blocked.
    assert in_threads(20, cache.get) == ["v1"] * 20
    assert source.entered.wait(30) and not source.gate.is_set()
    assert cache.peek() == "v1"  # the hot path serves the last good value during the refresh
    assert source.calls == 2  # one refresh, not one per caller
    source.gate.set()
    assert cache.wait_for_refresh(timeout=30)
    assert cache.peek() == "v2"


def test_forced_refreshes_during_a_slow_one_join_it_and_wait_at_most_force_wait(clock: FakeClock) -> None:
    source = SlowSource()
    cache = loaded(source, clock, force_wait=0.01)
    clock.advance(10)
    assert cache.can_force()
    # The source hangs: each forced caller gives up after force_wait with the last good value.
    assert in_threads(10, lambda: cache.get(force=True)) == ["v1"] * 10
    assert source.calls == 2 and not source.gate.is_set()
    source.gate.set()
    assert cache.wait_for_refresh(timeout=30)


def test_rate_limit_counts_from_the_end_of_a_slow_attempt(clock: FakeClock) -> None:
    source = SlowSource()
    cache = loaded(source, clock, force_wait=0)
    clock.advance(10)
    source.fail = True
    assert cache.get(force=True) == "v1"  # starts the refresh, waits for nothing
    assert source.entered.wait(30)
    clock.advance(9)  # the attempt takes 9 s (a blackholed SSM with retries)
    source.gate.set()
    assert cache.wait_for_refresh(timeout=30)
    clock.advance(5)  # 14 s after it started, 5 s after it ended
    assert not cache.can_force()
    for _ in range(50):
        assert cache.get(force=True) == "v1"
    assert source.calls == 2
    clock.advance(5)
    assert cache.can_force()


def test_cold_callers_share_one_fetch_and_wait_for_it(clock: FakeClock) -> None:
    source = SlowSource()
    cache = RefreshingCache(source, label="slow", ttl=300, min_interval=10, clock=clock)
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(cache.get) for _ in range(10)]
        assert source.entered.wait(30)
        assert not any(future.done() for future in futures)  # nothing to serve yet: they wait
        source.gate.set()
        assert [future.result(timeout=30) for future in futures] == ["v1"] * 10
    assert source.calls == 1


def test_cold_callers_fail_closed_when_the_shared_fetch_fails(clock: FakeClock) -> None:
    source = SlowSource()
    source.fail = True
    source.gate.set()
    cache = RefreshingCache(source, label="slow", ttl=300, min_interval=10, clock=clock)

    def attempt() -> str:
        try:
            return cache.get()
        except SecretUnavailable:
            return "refused"

    assert in_threads(10, attempt) == ["refused"] * 10
    assert source.calls == 1


def test_cold_callers_wait_at_most_wait_timeout(clock: FakeClock) -> None:
    source = SlowSource()
    cache = RefreshingCache(source, label="slow", ttl=300, min_interval=10, clock=clock, wait_timeout=0.01)
    with pytest.raises(SecretUnavailable):
        cache.get()
    source.gate.set()
    assert cache.wait_for_refresh(timeout=30)
    assert cache.get() == "v1"  # the fetch finished later; its value is kept


def test_a_refresh_that_ends_after_invalidate_leaves_nothing_behind(clock: FakeClock) -> None:
    """SnapStart forgets secrets before the snapshot: a refresh in flight must not write one back."""
    source = SlowSource()
    cache = loaded(source, clock)
    clock.advance(301)
    assert cache.get() == "v1"
    assert source.entered.wait(30)
    (refresher,) = [thread for thread in threading.enumerate() if thread.name == "refresh slow"]
    cache.invalidate()
    source.value = "v2"
    source.gate.set()
    refresher.join(30)  # the orphaned fetch has finished; what it returned was dropped
    assert not refresher.is_alive()
    assert cache.peek() is None
    assert cache.get() == "v2" and source.calls == 3  # fetched anew, nothing was kept


# -- what the SnapStart hooks rely on ---------------------------------------------


def test_invalidate_forgets_the_value_and_the_rate_limit() -> None:
    loads: list[int] = []
    now = [100.0]
    cache: RefreshingCache[int] = RefreshingCache(
        lambda: loads.append(1) or len(loads), label="test", ttl=300, min_interval=60, clock=lambda: now[0]
    )
    assert cache.get() == 1
    assert cache.get(force=True) == 1  # a forced refresh this soon is rate-limited
    cache.invalidate()
    assert cache.peek() is None
    assert cache.get() == 2 and len(loads) == 2  # fetched at once: TTL and rate limit forgotten

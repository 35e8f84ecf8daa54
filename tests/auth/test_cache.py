"""RefreshingCache: TTL, rate-limited forced refresh, last good value, fail closed."""

from __future__ import annotations

import logging

import pytest

from app.auth.cache import RefreshingCache
from app.errors import SecretUnavailable

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
    assert any("keeping last good" in r.getMessage() for r in caplog.records)
    # The last good value is served from the hot path until a retry is allowed.
    for _ in range(20):
        assert cache.peek() == "v1"
        assert cache.get() == "v1"
    assert source.calls == 2
    clock.advance(10)
    source.down = False
    source.value = "v2"
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

"""A value fetched from a slow, fallible source: TTL, stale-while-revalidate, last-good.

One policy serves the SSM key ring, the requestState key ring and the JWKS:

* `peek()` is the hot path: a clock read and a comparison, no I/O, no lock.
* `get()` with a value loaded never waits for the source: a stale value is
  returned at once while one refresh runs in a background (daemon) thread;
  every other caller meanwhile gets the last good value too.
* `get()` with no value yet (cold start, after a SnapStart restore): the
  concurrent callers share one fetch and wait for it (the loader's own
  timeout bounds it, `wait_timeout` too); if it fails they get
  `SecretUnavailable` and the caller fails closed.
* `get(force=True)` (an unknown key id or kid) starts a refresh early, at
  most once per `min_interval` after the previous attempt *ended*, so a
  flood of bad credentials costs the source one call per interval, however
  slow it is. The forcing caller, and only it, waits up to `force_wait`
  seconds for that refresh (a key added a moment ago then works on first
  use); a slow source costs it that much, never the requests that the
  last good value already answers.
* A failed refresh keeps the last good value (availability; logged without
  the value) and is not retried before `min_interval` has passed.
* An outage is logged as one (`app.core.outage.OutageLog`): one WARNING, then at
  most one a minute counting the failed fetches and refused requests in
  between, and one INFO when a fetch succeeds again.

Pure: no boto3, no HTTP. The loader does the I/O; it may block.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from app.core.errors import SecretUnavailable
from app.core.outage import OutageLog

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

#: How long a forced refresh's caller waits for it when a last good value exists.
DEFAULT_FORCE_WAIT_S = 1.0


class _Flight:
    """One fetch in progress; callers that need its result wait on `done`."""

    __slots__ = ("done", "generation")

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.done = threading.Event()


class RefreshingCache(Generic[T]):
    def __init__(
        self,
        loader: Callable[[], T],
        *,
        label: str,
        ttl: float,
        min_interval: float,
        clock: Clock = time.monotonic,
        force_wait: float = DEFAULT_FORCE_WAIT_S,
        wait_timeout: float | None = None,
    ) -> None:
        self._loader = loader
        #: Non-secret name for logs (a parameter name or URL, never a value).
        self.label = label
        self._ttl = ttl
        self._min_interval = min_interval
        self._clock = clock
        self._force_wait = force_wait
        self._wait_timeout = wait_timeout
        self._value: T | None = None
        self._expires_at = -math.inf
        #: When the last fetch attempt ended (the rate limit counts from there, not from its start).
        self._last_attempt = -math.inf
        self._last_failed = False
        self._flight: _Flight | None = None
        self._latest_flight: _Flight | None = None
        #: Bumped by `invalidate`: a fetch started before it must not write its result after it.
        self._generation = 0
        self._lock = threading.Lock()
        self._outages = OutageLog(clock=clock, logger=logger, service="secret source", context={"source": label})
        #: Fetch attempts started (successful or not); for tests and metrics.
        self.fetches = 0

    def peek(self) -> T | None:
        """The value if loaded and within its TTL, else None. Never does I/O."""
        if self._clock() < self._expires_at:
            return self._value
        return None

    def can_force(self) -> bool:
        """Whether a forced refresh would fetch now (or join one in progress): rate limit not hit."""
        return self._flight is not None or self._clock() - self._last_attempt >= self._min_interval

    def get(self, *, force: bool = False) -> T:
        """Current value; see the module docstring for when this waits and for how long."""
        with self._lock:
            now = self._clock()
            value = self._value
            fresh = now < self._expires_at
            if fresh and not force:
                return value  # type: ignore[return-value]
            flight = self._flight
            if flight is None and self._may_fetch(now, force):
                flight = self._start()
                if value is not None and not fresh:
                    # The hot path keeps serving the last good value while the refresh runs.
                    self._expires_at = now + self._min_interval
        if value is not None:
            if force and flight is not None and self._force_wait > 0:
                flight.done.wait(self._force_wait)
                latest = self._value
                return latest if latest is not None else value
            return value
        if flight is not None:
            flight.done.wait(self._wait_timeout)
            latest = self._value
            if latest is not None:
                return latest
        # Nothing loaded: the source failed a moment ago, or did not answer within `wait_timeout`.
        self._outages.failed("request refused", None)
        raise SecretUnavailable(f"{self.label} unavailable")

    def wait_for_refresh(self, timeout: float | None = None) -> bool:
        """Block until no fetch is in progress, its outcome logged (tests, SnapStart); False on `timeout`."""
        flight = self._flight or self._latest_flight
        return True if flight is None else flight.done.wait(timeout)

    @contextmanager
    def lend(self, value: T) -> Iterator[None]:
        """Serve `value` for the block only, then forget everything (SnapStart priming).

        Nothing is fetched and `fetches` is untouched; on exit the cache is as
        `invalidate` leaves it, so no lent value survives into a snapshot.
        """
        with self._lock:
            self._generation += 1
            self._flight = self._latest_flight = None  # a fetch still running finishes into the void
            self._value = value
            self._expires_at = math.inf
        try:
            yield
        finally:
            self.invalidate()

    def invalidate(self) -> None:
        """Forget the value and every deadline: the next `peek` misses, the next `get` fetches.

        For a SnapStart snapshot and restore: the snapshot must hold no secret,
        and deadlines taken from the monotonic clock before it mean nothing after.
        A fetch still in progress finishes into the void.
        """
        with self._lock:
            self._generation += 1
            self._flight = self._latest_flight = None  # a fetch still running finishes into the void
            self._value = None
            self._expires_at = -math.inf
            self._last_attempt = -math.inf
            self._last_failed = False

    def _may_fetch(self, now: float, force: bool) -> bool:
        cooling = now - self._last_attempt < self._min_interval
        # Rate-limited: a refresh ended a moment ago and this one is forced, or the source just failed.
        return not (cooling and (force or self._last_failed))

    def _start(self) -> _Flight:
        """Start one fetch in a daemon thread (called with the lock held)."""
        flight = _Flight(self._generation)
        self._flight = flight
        # Kept after the fetch clears `_flight` (before it logs): `wait_for_refresh` waits for the whole outcome.
        self._latest_flight = flight
        self.fetches += 1
        threading.Thread(target=self._fetch, args=(flight,), name=f"refresh {self.label}", daemon=True).start()
        return flight

    def _fetch(self, flight: _Flight) -> None:
        try:
            self._fetch_into(flight)
        finally:
            with self._lock:
                if self._flight is flight:  # the loader died of a BaseException: let the next call retry
                    self._flight = None
            flight.done.set()  # after the log line: whoever waited for this fetch sees its whole outcome

    def _fetch_into(self, flight: _Flight) -> None:
        try:
            value: T | None = self._loader()
            error: Exception | None = None
        except Exception as exc:  # noqa: BLE001 - any loader failure keeps the last good value
            value, error = None, exc
        with self._lock:
            current = flight.generation == self._generation
            if current:
                now = self._clock()
                self._flight = None
                self._last_attempt = now
                if error is None:
                    self._value = value
                    self._expires_at = now + self._ttl
                    self._last_failed = False
                else:
                    self._last_failed = True
                    if self._value is not None:
                        # Serve the last good value from the hot path until the next retry is allowed.
                        self._expires_at = now + self._min_interval
            kept = self._value is not None
        if not current:
            return
        if error is None:
            self._outages.succeeded()
        else:
            # Only the exception type: messages of parsers and SDKs are not
            # ours to vouch for, and must never be able to carry a value.
            operation = "refresh failed; last good value kept" if kept else "fetch failed; requests refused"
            self._outages.failed(operation, type(error).__name__)

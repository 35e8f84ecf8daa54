"""A value fetched from a slow, fallible source: TTL, rate-limited refresh, last-good.

One policy serves the SSM key ring, the requestState key ring and the JWKS:

* `peek()` is the hot path: a clock read and a comparison, no I/O, no lock.
* `get()` fetches when the value is missing or older than `ttl`.
* `get(force=True)` refetches early (unknown key id / kid), but at most once
  per `min_interval` per process, so a flood of bad credentials costs the
  source one call per interval, not one per request.
* A failed fetch keeps the last good value (availability; logged without the
  value) and is not retried before `min_interval` has passed. With no value
  ever loaded it raises `SecretUnavailable`: the caller fails closed.

Pure: no boto3, no HTTP. The loader does the I/O; it may block, so async
callers run `get` in a worker thread (a lock makes concurrent fetches single-flight).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from app.errors import SecretUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]


class RefreshingCache(Generic[T]):
    def __init__(
        self,
        loader: Callable[[], T],
        *,
        label: str,
        ttl: float,
        min_interval: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._loader = loader
        #: Non-secret name for logs (a parameter name or URL, never a value).
        self.label = label
        self._ttl = ttl
        self._min_interval = min_interval
        self._clock = clock
        self._value: T | None = None
        self._expires_at = -math.inf
        self._last_attempt = -math.inf
        self._last_failed = False
        self._lock = threading.Lock()
        #: Fetch attempts made (successful or not); for tests and metrics.
        self.fetches = 0

    def peek(self) -> T | None:
        """The value if loaded and within its TTL, else None. Never does I/O."""
        if self._clock() < self._expires_at:
            return self._value
        return None

    def can_force(self) -> bool:
        """Whether a forced refresh would actually fetch now (rate limit not hit)."""
        return self._clock() - self._last_attempt >= self._min_interval

    def get(self, *, force: bool = False) -> T:
        """Current value, fetching if stale (or if forced and allowed). May block."""
        with self._lock:
            now = self._clock()
            fresh = now < self._expires_at
            if fresh and not force:
                return self._value  # type: ignore[return-value]
            cooling = now - self._last_attempt < self._min_interval
            if cooling and (force or self._last_failed):
                # Rate-limited: a forced refresh already happened recently, or
                # the source just failed. Serve what we have, or fail closed.
                if self._value is not None:
                    return self._value
                raise SecretUnavailable(f"{self.label} unavailable")
            return self._fetch(now)

    @contextmanager
    def lend(self, value: T) -> Iterator[None]:
        """Serve `value` for the block only, then forget everything (SnapStart priming).

        Nothing is fetched and `fetches` is untouched; on exit the cache is as
        `invalidate` leaves it, so no lent value survives into a snapshot.
        """
        with self._lock:
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
        """
        with self._lock:
            self._value = None
            self._expires_at = -math.inf
            self._last_attempt = -math.inf
            self._last_failed = False

    def _fetch(self, now: float) -> T:
        self._last_attempt = now
        self.fetches += 1
        try:
            value = self._loader()
        except Exception as exc:
            self._last_failed = True
            # Only the exception type: messages of parsers and SDKs are not
            # ours to vouch for, and must never be able to carry a value.
            if self._value is not None:
                # Serve the last good value from the hot path until the next
                # retry is allowed, instead of sending every request to `get`.
                self._expires_at = now + self._min_interval
                logger.warning(
                    "secret refresh failed; keeping last good value",
                    extra={"source": self.label, "error_type": type(exc).__name__},
                )
                return self._value
            logger.error(
                "secret fetch failed and no value is cached; refusing requests",
                extra={"source": self.label, "error_type": type(exc).__name__},
            )
            raise SecretUnavailable(f"{self.label} unavailable") from None
        self._value = value
        self._expires_at = now + self._ttl
        self._last_failed = False
        return value

"""Loaders for secret values: SSM Parameter Store (SecureString) and a local file.

A loader is the I/O half of a `RefreshingCache`: it fetches the raw value and
parses it. When the raw value has not changed since the last fetch the
previously parsed object is returned as is, so everything built from it (key
ring principals, requestState codecs) survives a TTL refresh untouched.

SSM goes through Powertools' `SSMProvider`, built once per process (one
boto3 client, short timeouts, so a slow SSM fails fast instead of eating the
invocation). The TTL is owned by `RefreshingCache` (which also keeps the last
good value and rate-limits forced refreshes, which Powertools' own cache
cannot); the provider is therefore always called with `force_fetch=True` and
its `max_age` only mirrors ours.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _RedactSecureStringBodies(logging.Filter):
    """botocore logs every raw response body at DEBUG; a decrypted GetParameter
    body holds the SecureString in clear. Blank those bodies, keep the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args and isinstance(args[0], bytes | bytearray) and b'"SecureString"' in args[0]:
            record.args = ("<redacted: SecureString parameter value>",)
        return True


def _install_redaction() -> None:
    botocore_parsers = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, _RedactSecureStringBodies) for f in botocore_parsers.filters):
        botocore_parsers.addFilter(_RedactSecureStringBodies())


_install_redaction()


class _ParseOnChange(Generic[T]):
    """Parse a raw value, reusing the previous result when the value is unchanged."""

    def __init__(self, parse: Callable[[str], T]) -> None:
        self._parse = parse
        self._last_digest: bytes | None = None
        self._last: T | None = None
        self._lock = threading.Lock()

    def __call__(self, raw: str) -> T:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            if digest == self._last_digest and self._last is not None:
                return self._last
            parsed = self._parse(raw)
            self._last_digest, self._last = digest, parsed
            return parsed


@functools.lru_cache(maxsize=4)
def make_ssm_provider(timeout_s: float) -> Any:
    """One SSMProvider (one boto3 client) per process, shared by every secret.

    One attempt, no botocore retry: `retries={"max_attempts": 2}` meant two
    retries after the first try, and a blackholed SSM cost a cold request
    3 x 3 s = 9 s instead of the documented `MCP_AUTH_FETCH_TIMEOUT_S`. The
    secret cache retries instead (after `MCP_SECRET_REFRESH_MIN_INTERVAL_S`),
    and bounds each request's wait to `timeout_s` itself (`wait_timeout`),
    since a connect timeout and a read timeout could otherwise add up.

    Imported lazily: a local run without SSM never imports boto3.
    """
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return SSMProvider(boto_config=config)


class SSMLoader(Generic[T]):
    """Fetch one SecureString (decrypted) and parse it."""

    def __init__(self, provider: Any, name: str, parse: Callable[[str], T], *, max_age: float) -> None:
        self._provider = provider
        self.name = name
        self._max_age = max(1, int(max_age))
        self._parse = _ParseOnChange(parse)

    def __call__(self) -> T:
        raw = self._provider.get(self.name, decrypt=True, max_age=self._max_age, force_fetch=True)
        if not isinstance(raw, str):
            raise TypeError("parameter value is not a string")
        return self._parse(raw)


class FileLoader(Generic[T]):
    """Local development: the same value read from a file (re-read on refresh)."""

    def __init__(self, path: str, parse: Callable[[str], T]) -> None:
        self.path = Path(path)
        self._parse = _ParseOnChange(parse)

    def __call__(self) -> T:
        return self._parse(self.path.read_text(encoding="utf-8"))

"""The requestState sealing key ring (MCP 2026-07-28 `input_required`) from SSM.

A retry of an `input_required` call may land on any Lambda instance, so every
instance must seal and open with the same keys: they live in one SSM
SecureString, cached like the API key ring (TTL, last good, rate-limited
forced refresh). The crypto is the SDK's `AESGCMRequestStateCodec`; one is
built per ring value (and per "previous still valid" state), never per request.

Parameter value, either JSON::

    {"current": "<secret, >= 32 bytes>",          # seals, and opens
     "previous": "<secret>",                      # optional: opens only
     "previous_valid_until": "2026-08-01T12:00:00Z",  # optional; absent = no end
     "next": "<secret>"}                          # optional: opens only (pre-rotation)

or plain text, comma-separated secrets, newest first (the first seals, all open).
Generate a secret with ``python -m app.dev.keygen --request-state-key``.

Opening a token sealed under a key this instance does not know yet forces one
(rate-limited) refresh, so a rotation is picked up at once by every instance.
"""

from __future__ import annotations

import hashlib
import hmac

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState, RequestStateSecurity

from app.auth.cache import Clock, RefreshingCache
from app.auth.config import AuthSettings
from app.auth.keyring import parse_expiry
from app.auth.ssm import SSMLoader, make_ssm_provider
from app.core.errors import ConfigurationError, SecretUnavailable

logger = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32


def _dedupe(keys: list[str]) -> list[str]:
    seen: set[str] = set()
    return [k for k in keys if not (k in seen or seen.add(k))]  # type: ignore[func-returns-value]


@dataclass(frozen=True)
class SealingRing:
    """One parsed parameter value, with its codecs built once."""

    previous_valid_until: float | None
    _with_previous: AESGCMRequestStateCodec = field(repr=False)
    _without_previous: AESGCMRequestStateCodec | None = field(repr=False)
    #: The ring's secrets, newest first; never logged. Lets other signers
    #: (pagination cursors) derive their own keys from the same parameter.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def derive(self, label: bytes) -> tuple[bytes, ...]:
        """One 32-byte key per secret for the purpose named by `label` (HMAC-SHA256 as a KDF)."""
        return tuple(hmac.new(secret.encode("utf-8"), label, hashlib.sha256).digest() for secret in self.secrets)

    def codec_at(self, now: float) -> AESGCMRequestStateCodec:
        until = self.previous_valid_until
        if self._without_previous is not None and until is not None and now >= until:
            return self._without_previous
        return self._with_previous


def _secret(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ValueError(f"{name} must be a string of at least {MIN_SECRET_BYTES} bytes")
    return value


def parse_sealing_ring(raw: str) -> SealingRing:
    """Parse the parameter value. Errors never echo the value."""
    text = raw.strip()
    previous_valid_until: float | None = None
    if text[:1] in ("{", "[", '"'):  # JSON; only an object is a valid ring
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("requestState key ring is not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError("requestState key ring must be an object")
        current = _secret(data.get("current"), "current")
        accepted = [_secret(data["next"], "next")] if data.get("next") is not None else []
        previous = _secret(data["previous"], "previous") if data.get("previous") is not None else None
        if previous is not None and data.get("previous_valid_until") is not None:
            previous_valid_until = parse_expiry(data["previous_valid_until"])
    else:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError("requestState key ring is empty")
        current, accepted, previous = _secret(parts[0], "key"), [_secret(p, "key") for p in parts[1:]], None
    base = [current, *accepted]
    with_previous = AESGCMRequestStateCodec(_dedupe(base + ([previous] if previous else [])))
    without_previous = AESGCMRequestStateCodec(_dedupe(base)) if previous_valid_until is not None else None
    return SealingRing(previous_valid_until, with_previous, without_previous, tuple(_dedupe(base + ([previous] if previous else []))))


class SSMRequestStateCodec:
    """`RequestStateCodec` over a cached SSM key ring.

    The SDK's codec protocol is synchronous, so a (rare: once per TTL) fetch
    blocks the event loop for one SSM round trip; on Lambda that is the only
    request in flight anyway.
    """

    def __init__(self, ring: RefreshingCache[SealingRing], wall_clock: Clock = time.time) -> None:
        self.ring = ring
        self._wall = wall_clock

    def _current(self) -> SealingRing:
        ring = self.ring.peek()
        return ring if ring is not None else self.ring.get()

    def seal(self, payload: bytes) -> str:
        # SecretUnavailable propagates: the SDK answers a sanitized internal error.
        return self._current().codec_at(self._wall()).seal(payload)

    def unseal(self, token: str) -> bytes:
        try:
            ring = self._current()
        except SecretUnavailable:
            raise InvalidRequestState("sealing keys unavailable") from None
        try:
            return ring.codec_at(self._wall()).unseal(token)
        except InvalidRequestState as exc:
            # Sealed by an instance that already has a newer ring: fetch it
            # now (at most once per refresh interval) instead of failing for a TTL.
            if str(exc) != "unknown key" or not self.ring.can_force():
                raise
        try:
            ring = self.ring.get(force=True)
        except SecretUnavailable:
            raise InvalidRequestState("sealing keys unavailable") from None
        return ring.codec_at(self._wall()).unseal(token)


def build_request_state_security(
    auth: AuthSettings,
    *,
    ssm_provider: Any = None,
    clock: Clock = time.monotonic,
    wall_clock: Clock = time.time,
    loader: Callable[[], SealingRing] | None = None,
) -> RequestStateSecurity | None:
    """The SDK policy sealing requestState with the SSM key ring; None when not configured.

    Call once per process and pass the result as `request_state_security=`.
    `ssm_provider`, `loader` and the clocks are test seams.
    """
    if not auth.request_state_key_param:
        return None
    if loader is None:
        provider = ssm_provider if ssm_provider is not None else make_ssm_provider(auth.fetch_timeout_s)
        loader = SSMLoader(provider, auth.request_state_key_param, parse_sealing_ring, max_age=auth.secret_ttl_s)
    cache = RefreshingCache(
        loader,
        label=f"ssm:{auth.request_state_key_param}",
        ttl=auth.secret_ttl_s,
        min_interval=auth.refresh_min_interval_s,
        clock=clock,
        wait_timeout=auth.fetch_timeout_s,
    )
    return RequestStateSecurity(
        codec=SSMRequestStateCodec(cache, wall_clock),
        ttl=auth.request_state_ttl_s,
        audience=auth.request_state_audience,
    )


@dataclass(frozen=True)
class Sealing:
    """How this process seals `requestState`: the SDK policy, and the SSM ring behind it.

    Handed to the composition root as a typed value so SnapStart can forget and
    refetch the ring, and other signers (item cursors) can derive their keys
    from the same secret, without reaching into the codec.
    """

    security: RequestStateSecurity
    #: The cached SSM ring; None for local static keys.
    ring: RefreshingCache[SealingRing] | None = None

    def derived_keys(self, label: bytes) -> Callable[[], Sequence[bytes]] | None:
        """Keys derived from the ring under `label`, newest first; derived once per ring load."""
        ring = self.ring
        if ring is None:
            return None
        derived: list[Any] = [None, ()]  # (ring value it was derived from, keys)

        def keys() -> Sequence[bytes]:
            current = ring.peek()
            if current is None:
                current = ring.get()
            if derived[0] is not current:
                derived[:] = [current, current.derive(label)]
            return derived[1]

        return keys


def build_sealing(auth: AuthSettings, *, on_lambda: bool, default_audience: str, **seams: Any) -> Sealing | None:
    """The sealing policy: the SSM ring when configured; local static keys; else the SDK's process-local key (None).

    On Lambda the ring must come from SSM: every instance has to open what any
    other sealed, so anything else is refused at start-up.
    """
    security = build_request_state_security(auth, **seams)
    if security is not None:
        codec = security.codec
        assert isinstance(codec, SSMRequestStateCodec)
        return Sealing(security, codec.ring)
    if on_lambda:
        raise ConfigurationError(
            "MCP_REQUEST_STATE_KEY_PARAM is required on Lambda: every instance must seal and open "
            "requestState (and item cursors) with the same key"
        )
    if auth.request_state_keys:
        return Sealing(RequestStateSecurity(keys=list(auth.request_state_keys), audience=auth.request_state_audience or default_audience))
    return None

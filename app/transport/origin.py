"""Which Host and Origin headers a request may carry.

Two different protections, deliberately separate:
- Host allowlist (DNS-rebinding protection): only meaningful for a server on
  the developer's machine, so it is on for `make run` (loopback names) and off
  behind API Gateway, where the Host is the API's own domain and checking it
  against localhost would answer 421 to every real request.
- Origin allowlist: a browser page may call only if its origin is configured,
  or is the API's own origin (same-origin), or (locally) a loopback page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _hostname(host_header: str) -> str:
    """`example.com:443` -> `example.com`; `[::1]:8000` -> `[::1]`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.split(":", 1)[0]


def _normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    allowed_origins: frozenset[str]
    #: Hostnames (no port) the Host header may name; empty disables the check.
    allowed_hosts: frozenset[str]

    @classmethod
    def build(cls, origins: Iterable[str], hosts: Iterable[str] = ()) -> OriginPolicy:
        return cls(
            frozenset(_normalize_origin(o) for o in origins),
            frozenset(_hostname(h) for h in hosts),
        )

    def refusal(self, host: str | None, origin: str | None) -> tuple[int, str] | None:
        """(status, reason) when the request must be refused, else None."""
        if self.allowed_hosts and (host is None or _hostname(host) not in self.allowed_hosts):
            return 421, "Misdirected Request: Host header not allowed"
        if origin is None or origin == "":
            return None  # not a browser cross-origin request
        if self.allows_cross_origin(origin):
            return None
        if host is not None and urlsplit(_normalize_origin(origin)).netloc == host.strip().lower():
            return None  # same-origin: the page was served by this very API
        return 403, "Forbidden: Origin not allowed"

    def allows_cross_origin(self, origin: str) -> bool:
        """Whether a page from `origin` (another origin than the API's) may call.

        The one answer for both the endpoint's Origin check (POST) and the CORS
        layer (preflights, response headers): an origin that may POST may preflight.
        """
        normalized = _normalize_origin(origin)
        if normalized in self.allowed_origins or "*" in self.allowed_origins:
            return True
        parts = urlsplit(normalized)
        # Local development (`make run` sets loopback Host names): a page on this machine.
        return parts.scheme in ("http", "https") and _hostname(parts.netloc) in self.local_hosts

    @property
    def local_hosts(self) -> frozenset[str]:
        """Loopback names this server answers to (only when the Host check is on)."""
        return self.allowed_hosts & LOOPBACK_HOSTS

    @property
    def cross_origin(self) -> bool:
        """Whether any page of another origin may call, so CORS must be answered."""
        return bool(self.allowed_origins or self.local_hosts)

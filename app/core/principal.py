"""Who is calling: the seam between authentication and the tools.

The auth layer binds a `Principal` for the duration of one request; tools and
domain code read it with `current_principal()`. A context variable is the
carrier because the MCP dispatch runs in the same task as the HTTP request
(and the SDK copies the context into the worker thread of a sync tool), so no
transport object has to be threaded through domain code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Literal

from app.core.errors import Unauthenticated

PrincipalKind = Literal["api_key", "oauth", "local"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. Carries identity only, never the credential."""

    id: str
    kind: PrincipalKind
    name: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)


#: The principal used when authentication is explicitly disabled for local development.
LOCAL_DEVELOPER = Principal(id="local-developer", kind="local", name="local development (auth disabled)")

_current: ContextVar[Principal | None] = ContextVar("mcp_principal", default=None)


def current_principal() -> Principal:
    """The caller of the request being served. Raises when nobody was authenticated."""
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no authenticated caller for this request")
    return principal


def peek_principal() -> Principal | None:
    """The caller if one is bound, else None (for logging)."""
    return _current.get()


def bind_principal(principal: Principal) -> Token[Principal | None]:
    """Bind `principal` for the current context; pass the token to `unbind_principal` when done."""
    return _current.set(principal)


def unbind_principal(token: Token[Principal | None]) -> None:
    _current.reset(token)


@contextmanager
def bound_principal(principal: Principal) -> Iterator[Principal]:
    """Bind `principal` for the enclosed block (one request)."""
    token = _current.set(principal)
    try:
        yield principal
    finally:
        _current.reset(token)

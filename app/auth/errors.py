"""Refinements of the project's auth errors, private to the auth layer.

They subclass `app.errors` types, so anything catching `Unauthenticated` or
`Forbidden` still works; the extra detail only shapes the HTTP answer
(RFC 6750 `WWW-Authenticate` parameters). Reasons are fixed strings chosen
here, never built from request data, so they cannot carry a credential.
"""

from __future__ import annotations

from app.errors import Forbidden, Unauthenticated


class MissingCredentials(Unauthenticated):
    """No Authorization header: 401 without an `error=` parameter (RFC 6750 3.1)."""


class InvalidCredentials(Unauthenticated):
    """A credential was presented and refused: 401 with `error="invalid_token"`."""


class InsufficientScope(Forbidden):
    """Known caller lacking required scopes: 403 with `error="insufficient_scope"`."""

    def __init__(self, reason: str, required: tuple[str, ...]) -> None:
        super().__init__(reason)
        self.required = required

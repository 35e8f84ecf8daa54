"""The project's exception tree, in one place.

    AppError
    ├── ConfigurationError      bad or missing configuration; fatal at start-up
    ├── SecretUnavailable       a secret store could not be read (-> 503, fail closed)
    ├── Refusal                 a request refused before it ran: HTTP status + headers + JSON-RPC error
    │   └── AuthError           the caller is not let in
    │       ├── Unauthenticated     no or bad credentials (-> 401)
    │       │   ├── MissingCredentials   no Authorization header (401, no error= parameter)
    │       │   └── InvalidCredentials   presented and refused (401, error="invalid_token")
    │       └── Forbidden           known caller, missing scope (-> 403)
    │           └── InsufficientScope    (403, error="insufficient_scope", scope=...)
    └── DomainError             a tool's business rule said no (-> isError result)
        ├── NotFound
        ├── Conflict            stale version, duplicate
        ├── InvalidInput        a value the schema allowed but the rule does not
        └── StoreUnavailable    throttled or briefly unreachable: retry the same call

Transport-level refusals (bad JSON, wrong headers) are not exceptions: they are
answered where they are found, in `app.transport.wire`. A `Refusal` raised while
a JSON-RPC request is dispatched (a server middleware that says no, e.g. a tool
the caller's scopes do not reach) is translated by the transport generically:
its `status`, its `headers` and a JSON-RPC error with its `code` and `message`. Tool code raises `DomainError`
subclasses; the SDK turns any exception raised by a tool into an `isError`
result, and `app.items.edge` keeps those messages caller-safe. Auth reasons
are fixed strings, never built from request data, so they cannot carry a
credential.
"""

from __future__ import annotations

#: JSON-RPC error codes of this server's own refusals, declared here and nowhere else.
#: Server-defined range (-32000..-32099), clear of every code the MCP SDK defines
#: (-32000 connection closed, -32001 request timeout, -32020..-32022, -32042):
#: a client must never mistake "not let in" for "timed out" or "connection closed".
UNAUTHORIZED_CODE = -32050  #: 401: no or bad credentials
FORBIDDEN_CODE = -32051  #: 403: known caller, missing scope (or another whole-request refusal)
UNAVAILABLE_CODE = -32052  #: 503: credentials cannot be checked right now (secret store unreachable)


class AppError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(AppError):
    """Configuration is missing or malformed. Raised at start-up, never per request."""


class SecretUnavailable(AppError):
    """A secret could not be fetched and no cached value exists."""


class Refusal(AppError):
    """A request refused as a whole: answered with HTTP `status`, `headers` and a JSON-RPC error.

    `reason` is safe to show (fixed text or server-declared names, never request
    data or a secret). `headers` are added by whoever knows them (e.g. the
    `WWW-Authenticate` challenge); the transport only copies them out.
    """

    status = 400
    #: JSON-RPC error code of the answer (one of the codes declared at the top of this module).
    code = FORBIDDEN_CODE
    prefix = "Refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def message(self) -> str:
        return f"{self.prefix}: {self.reason}"

    @property
    def data(self) -> dict[str, object] | None:
        """Structured detail for the JSON-RPC error's `data`, or None."""
        return None


class AuthError(Refusal):
    """The caller is not allowed in. `reason` is safe to show; it never names a secret."""

    status = 401
    code = UNAUTHORIZED_CODE
    prefix = "Unauthorized"


class Unauthenticated(AuthError):
    status = 401


class Forbidden(AuthError):
    status = 403
    code = FORBIDDEN_CODE
    prefix = "Forbidden"


class DomainError(AppError):
    """A business rule refused the operation. The message goes to the caller as is."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class MissingCredentials(Unauthenticated):
    """No Authorization header: 401 without an `error=` parameter (RFC 6750 3.1)."""


class InvalidCredentials(Unauthenticated):
    """A credential was presented and refused: 401 with `error="invalid_token"`."""


class InsufficientScope(Forbidden):
    """Known caller lacking required scopes: 403 with `error="insufficient_scope"`.

    `required` is what the operation needs (the challenge's `scope`), `missing`
    the part of it the caller lacks (for operators' logs and metrics).
    """

    def __init__(self, reason: str, required: tuple[str, ...], missing: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.required = required
        self.missing = missing or required

    @property
    def data(self) -> dict[str, object] | None:
        return {"requiredScopes": list(self.required)}


class StoreUnavailable(DomainError):
    """The store is throttling or briefly unreachable. Safe to retry the same call."""

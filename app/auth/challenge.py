"""How every refusal of a credential or a scope reads to a client, decided in one place.

Used by the HTTP edge (`AccessControl`: no, bad or under-scoped credentials
for the whole server) and by the per-tool scope check (`app.auth.tool_scopes`:
a tool, resource or prompt the caller's scopes do not reach), so an OAuth
client reads the same challenge whichever refused it:

    401  Bearer resource_metadata="...", error="invalid_token", error_description="..."
    403  Bearer resource_metadata="...", error="insufficient_scope", scope="items:write"

`resource_metadata` in an OAuth mode (MCP authorization spec, RFC 9728),
`realm="mcp"` otherwise. `Challenger.answer` decides the status, message and
headers: in API-key mode a refused key and a missing scope carry no challenge
(see there why). Pure: reads the ASGI scope dict, imports no web framework.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.config import AuthSettings
from app.auth.prm import external_base_url, metadata_url
from app.core.errors import AuthError, InsufficientScope, InvalidCredentials
from app.transport.config import Settings

#: What a refused API key reads as (its reason follows in parentheses). Never the word "Unauthorized":
#: mcp-remote starts OAuth on any error whose text holds it.
WRONG_KEY = "Forbidden: this API key was not accepted; check the key in this client's Authorization: Bearer header"

_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\]')


def quoted(value: str) -> str:
    """An RFC 9110 quoted-string that cannot break out of the header value."""
    return '"' + _UNSAFE_IN_QUOTES.sub("", value) + '"'


@dataclass(frozen=True)
class Answer:
    """A refusal as the client gets it: HTTP status, JSON-RPC error message, response headers."""

    status: int
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True)
class Challenger:
    """Builds challenges for one deployment (mode, paths, public URL). Built once per process."""

    oauth: bool
    mcp_path: str
    public_url: str | None = None
    api_base_path: str = ""

    @classmethod
    def build(cls, settings: Settings, auth: AuthSettings) -> Challenger:
        return cls(
            oauth=auth.oauth_enabled,
            mcp_path=settings.path,
            public_url=auth.public_url,
            api_base_path=settings.api_base_path,
        )

    def answer(
        self, scope: Mapping[str, Any] | None, exc: AuthError, *, presented: bool = True, per_item: bool = False
    ) -> Answer:
        """How refusing the request of ASGI `scope` with `exc` reads to the client.

        `per_item`: a JSON-RPC request refused for one tool, resource or prompt (the scope
        guard), not the whole HTTP request at the edge (`MCP_REQUIRED_SCOPES`, a bad credential).

        OAuth modes: RFC 6750 (401 `invalid_token`, 403 `insufficient_scope` with the step-up
        challenge), which OAuth clients act on. API-key mode: a key can be neither refreshed nor
        stepped up, and clients built on the TypeScript SDK (mcp-remote, the Inspector, Claude Code)
        answer every 401, and every 403 `insufficient_scope` challenge, by starting OAuth discovery,
        so a user read "Dynamic Client Registration rejected" instead of the reason. There a
        presented key that is refused is a 403 with the reason and no challenge (as API Gateway's
        own API keys), and a missing per-item scope a plain JSON-RPC error in a 200 ("tool X needs
        scope Y", `data.requiredScopes`), which every client shows as written. No key at all stays
        a 401 with `Bearer realm="mcp"`.
        """
        if not self.oauth:
            if per_item and isinstance(exc, InsufficientScope):
                return Answer(200, exc.message)
            if presented and isinstance(exc, InvalidCredentials):
                return Answer(403, f"{WRONG_KEY} ({exc.reason})")
        return Answer(exc.status, exc.message, ((b"www-authenticate", self.header(scope, exc, presented=presented)),))

    def header(self, scope: Mapping[str, Any] | None, exc: AuthError, *, presented: bool = True) -> bytes:
        """The challenge for refusing the request of ASGI `scope` with `exc`.

        `presented`: whether a credential was sent (a 401 then says invalid_token).
        `scope` may be None off HTTP; the metadata URL then needs MCP_PUBLIC_URL
        (else a relative path).
        """
        params: list[str] = []
        if exc.status == 403:
            params.append('error="insufficient_scope"')
            if isinstance(exc, InsufficientScope):
                params.append(f"scope={quoted(' '.join(exc.required))}")
        elif presented or isinstance(exc, InvalidCredentials):
            params += ['error="invalid_token"', f"error_description={quoted(exc.reason)}"]
        if self.oauth:
            params.insert(0, f"resource_metadata={quoted(metadata_url(self._base(scope), self.mcp_path))}")
        else:
            params.insert(0, 'realm="mcp"')
        return ("Bearer " + ", ".join(params)).encode("latin-1")

    def _base(self, scope: Mapping[str, Any] | None) -> str:
        if scope is None:
            return (self.public_url or "").rstrip("/")
        return external_base_url(scope, public_url=self.public_url, api_base_path=self.api_base_path)

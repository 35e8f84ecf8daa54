"""The `WWW-Authenticate: Bearer ...` challenge of every 401 and 403, built in one place.

Used by the HTTP edge (`AccessControl`: no, bad or under-scoped credentials
for the whole server) and by the per-tool scope check (`app.auth.tool_scopes`:
a tool, resource or prompt the caller's scopes do not reach), so an OAuth
client reads the same challenge whichever refused it:

    401  Bearer resource_metadata="...", error="invalid_token", error_description="..."
    403  Bearer resource_metadata="...", error="insufficient_scope", scope="items:write"

`resource_metadata` in an OAuth mode (MCP authorization spec, RFC 9728),
`realm="mcp"` otherwise. Pure: reads the ASGI scope dict, imports no web framework.
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

_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\]')


def quoted(value: str) -> str:
    """An RFC 9110 quoted-string that cannot break out of the header value."""
    return '"' + _UNSAFE_IN_QUOTES.sub("", value) + '"'


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

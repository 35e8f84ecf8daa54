"""RFC 9728 OAuth 2.0 Protected Resource Metadata, and the external URL it names.

The resource URL is what the client called: scheme and host from
X-Forwarded-Proto / X-Forwarded-Host / Host, then the external path prefix,
then the MCP path. The prefix is, first found:
  1. the ASGI `root_path` (a stage such as "/Prod", set by the transport);
  2. what API Gateway REST (v1) events show outside the app: their `path` is
     the resource path ("/mcp") while `requestContext.path` is the external
     one ("/Prod/mcp", or "/v1/mcp" behind a custom domain's base path);
  3. the configured `api_base_path`.
`MCP_PUBLIC_URL` replaces all of it and is recommended in production: header
values are client-controlled, so a derived URL is only ever reflected back to
the same caller (and served with `Cache-Control: no-store`), never used for an
access decision (token audiences are configured, see AuthSettings.audiences_for).

Pure: reads the ASGI scope dict, imports no web framework.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

WELL_KNOWN = "/.well-known/oauth-protected-resource"

_HOST_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
_PATH_RE = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*")


def _first_header(scope: Mapping[str, Any], names: tuple[bytes, ...]) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for name, value in scope.get("headers", ()):
        lname = name.lower()
        if lname in names and lname not in found:
            # Proxies append: "a, b" -> the first hop is the client-facing one.
            found[lname] = value.decode("latin-1").split(",", 1)[0].strip()
    return found


def _event_prefix(scope: Mapping[str, Any]) -> str:
    """External prefix of a REST (v1) event: requestContext.path minus the event's own path."""
    event = scope.get("aws.event")
    if not isinstance(event, Mapping):
        return ""
    context = event.get("requestContext")
    inner = event.get("path")
    outer = context.get("path") if isinstance(context, Mapping) else None
    if isinstance(outer, str) and isinstance(inner, str) and inner and outer != inner and outer.endswith(inner):
        return outer[: -len(inner)]
    return ""


def external_base_url(scope: Mapping[str, Any], *, public_url: str | None = None, api_base_path: str = "") -> str:
    """scheme://host[/prefix] under which the client reached this app (no trailing slash)."""
    if public_url:
        return public_url.rstrip("/")
    headers = _first_header(scope, (b"x-forwarded-proto", b"x-forwarded-host", b"host"))
    scheme = headers.get(b"x-forwarded-proto", "").lower() or str(scope.get("scheme", "http"))
    if scheme not in ("http", "https"):
        scheme = "https"
    server = scope.get("server")
    candidates = (
        headers.get(b"x-forwarded-host", ""),
        headers.get(b"host", ""),
        f"{server[0]}:{server[1]}" if server else "",
    )
    # The first well-formed one; anything else could break out of the quoted header value.
    host = next((c for c in candidates if _HOST_RE.fullmatch(c)), "localhost")
    prefix = (scope.get("root_path") or "") or _event_prefix(scope) or api_base_path
    if not _PATH_RE.fullmatch(prefix):
        # Never reflect something that could break out of a quoted header value.
        prefix = ""
    return f"{scheme}://{host}{prefix.rstrip('/')}"


def metadata_url(base: str, mcp_path: str) -> str:
    """The path-suffixed PRM location (RFC 9728 3.1 style), under the external prefix."""
    return base + WELL_KNOWN + mcp_path


def prm_paths(mcp_path: str) -> frozenset[str]:
    return frozenset({WELL_KNOWN, WELL_KNOWN + mcp_path})


def prm_document(
    resource: str,
    *,
    authorization_servers: tuple[str, ...],
    scopes_supported: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "resource": resource,
        "authorization_servers": list(authorization_servers),
        "scopes_supported": list(scopes_supported),
        "bearer_methods_supported": ["header"],
    }

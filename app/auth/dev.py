"""The banner a local runner prints at start: how to call this server.

The banner contains the development key on purpose (it is for the terminal
of the developer who started the server). Print it to stdout; never pass it
to `logging`, which may ship records elsewhere.
"""

from __future__ import annotations

import shlex

from app.auth.config import AuthSettings


def dev_key_banner(auth: AuthSettings, url: str = "http://127.0.0.1:8000/mcp") -> str:
    """Text for the terminal; empty when there is nothing local to announce."""
    if auth.mode == "none":
        return (
            "WARNING: authentication is DISABLED (MCP_AUTH_MODE=none). Every caller is the local developer.\n"
            f"  MCP endpoint: {url}\n"
        )
    key = auth.dev_api_key
    if key is None or not auth.api_keys_enabled:
        return ""
    origin = (
        "generated for this run; set MCP_DEV_API_KEY to keep one"
        if auth.dev_api_key_generated
        else ("from MCP_DEV_API_KEY")
    )
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
    return "\n".join(
        [
            f"Local development API key ({origin}). Local only, refused in Lambda:",
            f"  {key}",
            "",
            "Try it:",
            f"  curl -s {shlex.quote(url)} -H {shlex.quote('Authorization: Bearer ' + key)} \\",
            "    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\",
            "    -H 'MCP-Protocol-Version: 2025-06-18' \\",
            f"    -d {shlex.quote(body)}",
            "MCP client configuration (streamable HTTP):",
            f'  {{"url": "{url}", "headers": {{"Authorization": "Bearer {key}"}}}}',
            "",
        ]
    )

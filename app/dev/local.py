"""`make run`: the product on 127.0.0.1 with embedded defaults (no AWS).

Defaults for a developer machine: an SQLite item store under .data/, a
development API key (generated, or MCP_DEV_API_KEY) printed below, and the
DNS-rebinding guard on (loopback Host names only).
"""

from __future__ import annotations

import os
import shlex
import sys

from app.auth import dev_key_banner
from app.main import build_product
from app.transport.origin import LOOPBACK_HOSTS


def inspector_hint(url: str, key: str | None) -> str:
    """The Inspector command for this server, runnable as printed (`make inspector`, pinned, on Node 22)."""
    credential = f" KEY={shlex.quote(key)}" if key else " KEY=<key>"
    return (
        "Connect a client (the MCP Inspector CLI, installed on first use):\n"
        f"  make inspector{credential} URL={shlex.quote(url)}\n"
        f"  make inspector{credential} URL={shlex.quote(url)} METHOD=tools/call ARGS='--tool-name echo --tool-arg text=hi'\n"
    )


def main() -> None:
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    environ = dict(os.environ)
    environ.setdefault("MCP_ALLOWED_HOSTS", ",".join(sorted(LOOPBACK_HOSTS)))
    product = build_product(environ)
    url = f"http://127.0.0.1:{port}{product.settings.path}"
    # The banner carries the development key: terminal only, never the logging system.
    print(f"\nMCP server: {url}\n", file=sys.stderr)
    print(dev_key_banner(product.auth, url), file=sys.stderr)
    print(inspector_hint(url, product.auth.dev_api_key if product.auth.api_keys_enabled else None), file=sys.stderr)
    uvicorn.run(product.asgi_app(), host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main()

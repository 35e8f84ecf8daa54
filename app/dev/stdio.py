"""`make stdio` / `python -m app.dev.stdio`: the product over stdio, for desktop clients.

The same server as `make run` and Lambda (`app.main.build_product`: every
tool, resource, prompt and the item store), served by the MCP SDK's stdio
transport to the one client that spawned this process. There is no HTTP and
so no credential: whoever can start the process is the local developer, and
every request runs as the stdio principal: kind "local", the id `make run`
gives its development key (so both see the same items in the local SQLite
file), and the development key's scopes (every declared scope unless
MCP_DEV_API_KEY_SCOPES says otherwise).

stdout carries the protocol and nothing else: logs go to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
from mcp.server.stdio import stdio_server

from app.auth.authn import DEV_PRINCIPAL
from app.main import build_product
from app.core.principal import Principal, bound_principal
from app.transport.sdk import lowlevel_server

#: The repository root: a desktop client starts us from an arbitrary directory.
ROOT = Path(__file__).resolve().parents[2]

#: Who calls over stdio (scopes added at start-up): the local developer, with the items `make run`'s key sees.
STDIO_PRINCIPAL = Principal(id=DEV_PRINCIPAL.id, kind="local", name="local desktop client (stdio)")


def stdio_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The local defaults: the item file under the repository's .data/, wherever we were started."""
    env = dict(environ)
    env.setdefault("ITEMS_SQLITE_PATH", str(ROOT / ".data" / "items.sqlite3"))
    return env


async def serve(server: Any, principal: Principal) -> None:
    """Serve `server` (an MCPServer) on this process's stdin/stdout until the client closes stdin."""
    core = lowlevel_server(server)
    with bound_principal(principal):  # every handler task inherits this context
        async with stdio_server() as (read_stream, write_stream):
            await core.run(read_stream, write_stream, core.create_initialization_options())


def main() -> None:
    product = build_product(stdio_environ(os.environ))
    server = product.stdio_server()  # logs to stderr: stdout is the protocol; the same middleware chain as over HTTP
    principal = replace(STDIO_PRINCIPAL, scopes=frozenset(product.auth.dev_scopes or ()))
    print(f"mcp-lambda on stdio; items in {stdio_environ(os.environ)['ITEMS_SQLITE_PATH']}", file=sys.stderr)
    anyio.run(serve, server, principal)


if __name__ == "__main__":
    main()

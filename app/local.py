"""`make run`: serve the app on 127.0.0.1 with uvicorn and embedded defaults (no AWS)."""

from __future__ import annotations

import dataclasses
import os
import sys

from app.asgi import create_asgi_app
from app.config import Settings
from app.origin import LOOPBACK_HOSTS
from app.server import build_server


def main() -> None:
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    settings = Settings.from_env()
    if not settings.allowed_hosts:
        # On a developer machine the DNS-rebinding guard is on by default.
        settings = dataclasses.replace(settings, allowed_hosts=tuple(LOOPBACK_HOSTS))
    app = create_asgi_app(build_server(), settings)
    url = f"http://127.0.0.1:{port}{settings.path}"
    print(f"MCP server on {url}", file=sys.stderr)
    print(f"  Inspector: npx @modelcontextprotocol/inspector --cli {url} --method tools/list", file=sys.stderr)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main()

"""This project: an `MCPServer` with the two benchmark tools, through `create_lambda_handler`."""

from __future__ import annotations

from app import Settings, create_lambda_handler
from bench.apps.tools import build_server


def build_handler(settings: Settings | None = None):
    # Explicit defaults: the bench must not depend on the caller's MCP_* environment.
    return create_lambda_handler(build_server(), settings or Settings())


handler = build_handler()

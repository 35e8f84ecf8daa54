"""Stateless MCP server for AWS Lambda: public factories and settings.

    from app import create_asgi_app, create_lambda_handler, settle_heap, Settings

Names resolve lazily (PEP 562), so importing a stdlib-only module of the
package (`app.core.events`, `app.core.env`) does not import the MCP SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.lazy import lazy_attributes

if TYPE_CHECKING:
    from app.transport.asgi import create_asgi_app
    from app.transport.config import Settings
    from app.transport.lambda_entry import create_lambda_handler, settle_heap

__all__ = ["Settings", "create_asgi_app", "create_lambda_handler", "settle_heap"]

_WHERE = {
    "Settings": "app.transport.config",
    "create_asgi_app": "app.transport.asgi",
    "create_lambda_handler": "app.transport.lambda_entry",
    "settle_heap": "app.transport.lambda_entry",
}


__getattr__ = lazy_attributes(__name__, _WHERE)

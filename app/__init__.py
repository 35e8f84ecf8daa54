"""Stateless MCP server for AWS Lambda: public factories and settings."""

from app.transport.asgi import create_asgi_app
from app.transport.config import Settings
from app.transport.lambda_entry import create_lambda_handler

__all__ = ["Settings", "create_asgi_app", "create_lambda_handler"]

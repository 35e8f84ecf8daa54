"""Stateless MCP server for AWS Lambda: public factories and settings."""

from app.asgi import create_asgi_app
from app.config import Settings
from app.lambda_entry import create_lambda_handler

__all__ = ["Settings", "create_asgi_app", "create_lambda_handler"]

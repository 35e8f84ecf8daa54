"""Lambda entry point (`handler.handler`): built once per execution environment."""

from app import create_lambda_handler
from app.server import build_server

handler = create_lambda_handler(build_server())

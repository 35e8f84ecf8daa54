"""Lambda entry point (`handler.handler`): the product, built once per execution environment.

Logs, metrics, traces and the SnapStart hooks are attached by `app.main`.
"""

from app.main import build_product

handler = build_product().lambda_handler()

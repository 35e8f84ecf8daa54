"""Lambda entry point (`handler.handler`): the product, built once per execution environment."""

from app.main import build_product

handler = build_product().lambda_handler()

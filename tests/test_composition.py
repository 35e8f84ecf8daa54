"""The composition root declares the server middleware chain once (`app.main.server_chain`, its order in
`SERVER_MIDDLEWARE`), builds the product whole before freezing it, and no entry point changes the chain
afterwards (issue 18 item 1)."""

from __future__ import annotations

import io
from pathlib import Path

from mcp.server.mcpserver import RequestStateBoundary

from app.auth.tool_scopes import ScopeGuard
from app.main import SERVER_MIDDLEWARE, build_product
from app.observability import RequestObserver
from app.quotas.guard import QuotaGuard
from app.tasks.execution import TaskRunMiddleware
from app.transport.asgi import UnknownToolGuard
from app.transport.mistakes import ClientMistakeGuard
from app.transport.sdk import OtelMiddleware, lowlevel_server, middleware

ISSUE_ORDER = [
    RequestObserver, RequestStateBoundary, TaskRunMiddleware, ScopeGuard, QuotaGuard, UnknownToolGuard, ClientMistakeGuard,
]  # fmt: skip


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3"),
        "MCP_DEV_API_KEY": "composition-test-key-0001",
        **extra,
    }


def _kinds(product: object) -> list[type]:
    return [type(entry) for entry in middleware(lowlevel_server(product.server))]  # type: ignore[attr-defined]


def test_the_declared_chain_is_the_issue_order_with_the_optional_sdk_span_outermost() -> None:
    assert list(SERVER_MIDDLEWARE) == [OtelMiddleware, *ISSUE_ORDER]


def test_a_built_product_runs_the_declared_chain_outermost_first(tmp_path: Path) -> None:
    assert _kinds(build_product(_environ(tmp_path))) == ISSUE_ORDER


def test_no_entry_point_changes_the_chain(tmp_path: Path) -> None:
    product = build_product(_environ(tmp_path), log_stream=io.StringIO())
    built = list(middleware(lowlevel_server(product.server)))
    product.asgi_app()
    product.lambda_build()
    product.stdio_server()
    product.task_worker()
    assert middleware(lowlevel_server(product.server)) == built  # the same entries, not just the same kinds


def test_entries_a_configuration_lacks_are_left_out_in_order(tmp_path: Path) -> None:
    kinds = _kinds(build_product(_environ(tmp_path, MCP_QUOTA_ENABLED="false")))
    assert kinds == [kind for kind in ISSUE_ORDER if kind is not QuotaGuard]


def test_the_sdk_span_heads_the_chain_only_with_mcp_otel(tmp_path: Path) -> None:
    kinds = _kinds(build_product(_environ(tmp_path, MCP_OTEL="true")))
    assert kinds == list(SERVER_MIDDLEWARE)

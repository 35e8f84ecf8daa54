"""The composition root declares the server middleware chain once (`app.main.SERVER_MIDDLEWARE`), and a built
product runs exactly that chain, outermost first, whatever order its parts were installed in (issue 18 item 1)."""

from __future__ import annotations

from pathlib import Path

from mcp.server.mcpserver import RequestStateBoundary

from app.auth.tool_scopes import ScopeGuard
from app.main import SERVER_MIDDLEWARE, build_product
from app.observability import RequestObserver
from app.quotas.guard import QuotaGuard
from app.tasks.execution import TaskRunMiddleware
from app.transport.asgi import UnknownToolGuard
from app.transport.mistakes import ClientMistakeGuard
from app.transport.sdk import install_middleware, lowlevel_server, middleware

EXPECTED = [
    RequestObserver, RequestStateBoundary, TaskRunMiddleware, ScopeGuard, QuotaGuard, UnknownToolGuard, ClientMistakeGuard,
]  # fmt: skip


def _environ(tmp_path: Path) -> dict[str, str]:
    return {
        "ITEMS_SQLITE_PATH": str(tmp_path / "items.sqlite3"),
        "MCP_DEV_API_KEY": "composition-test-key-0001",
    }


def test_the_declared_chain_is_the_issue_order() -> None:
    assert list(SERVER_MIDDLEWARE) == EXPECTED


def test_a_built_lambda_product_runs_the_declared_chain_outermost_first(tmp_path: Path) -> None:
    product = build_product(_environ(tmp_path))
    product.lambda_build()
    assert [type(m) for m in middleware(lowlevel_server(product.server))] == EXPECTED


def test_the_local_app_runs_the_same_chain(tmp_path: Path) -> None:
    product = build_product(_environ(tmp_path))
    product.asgi_app()
    assert [type(m) for m in middleware(lowlevel_server(product.server))] == EXPECTED


def test_an_entry_installed_out_of_place_is_put_back_in_its_declared_place(tmp_path: Path) -> None:
    product = build_product(_environ(tmp_path))
    core = lowlevel_server(product.server)
    install_middleware(core, ScopeGuard(product.scopes))  # appended: innermost, the wrong place
    assert type(middleware(core)[-1]) is ScopeGuard
    product.asgi_app()
    assert [type(m) for m in middleware(core)] == EXPECTED

"""Settings from the environment, and the factory that turns them into a service."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from app.core.errors import ConfigurationError
from app.items.config import DEFAULT_SQLITE_PATH, ENV_DOC, ItemStoreSettings
from app.items.dynamo_store import DynamoItemStore
from app.items.factory import build_cursor_codec, build_item_service, build_item_store
from app.items.sqlite_store import SqliteItemStore

from .conftest import ALICE

LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "mcp"}
KEY = "k" * 32


def test_local_defaults() -> None:
    settings = ItemStoreSettings.from_env({})
    assert (settings.backend, settings.sqlite_path, settings.on_lambda) == ("sqlite", DEFAULT_SQLITE_PATH, False)
    assert settings.cursor_keys == ()


def test_lambda_defaults_to_dynamodb_and_needs_a_table() -> None:
    with pytest.raises(ConfigurationError, match="ITEMS_TABLE_NAME"):
        ItemStoreSettings.from_env(LAMBDA)
    settings = ItemStoreSettings.from_env({**LAMBDA, "ITEMS_TABLE_NAME": "items"})
    assert (settings.backend, settings.table_name) == ("dynamodb", "items")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**LAMBDA, "ITEMS_BACKEND": "sqlite"}, "/tmp"),
        ({"ITEMS_BACKEND": "postgres"}, "ITEMS_BACKEND"),
        ({"ITEMS_BACKEND": "dynamodb"}, "ITEMS_TABLE_NAME"),
        ({"ITEMS_CURSOR_KEYS": "short"}, "32 bytes"),
        ({**LAMBDA, "ITEMS_TABLE_NAME": "t", "ITEMS_CURSOR_KEYS": KEY}, "local runs only"),
        ({"ITEMS_CURSOR_TTL_S": "soon"}, "integer"),
        ({"ITEMS_IDEMPOTENCY_TTL_S": "0"}, "positive"),
    ],
    ids=[
        "sqlite-on-lambda",
        "unknown-backend",
        "dynamodb-without-table",
        "short-key",
        "env-key-on-lambda",
        "ttl-nan",
        "ttl-zero",
    ],
)
def test_bad_configuration_is_loud(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ItemStoreSettings.from_env(env)


def test_cursor_keys_from_env_newest_first() -> None:
    settings = ItemStoreSettings.from_env({"ITEMS_CURSOR_KEYS": f"{'n' * 32}, {'o' * 32}"})
    assert settings.cursor_keys == (b"n" * 32, b"o" * 32)


def test_keys_never_show_in_repr() -> None:
    assert KEY not in repr(ItemStoreSettings().with_cursor_keys(KEY.encode()))


def test_on_lambda_the_injected_key_is_required() -> None:
    settings = ItemStoreSettings.from_env({**LAMBDA, "ITEMS_TABLE_NAME": "items"})
    with pytest.raises(ConfigurationError, match="SSM"):
        build_cursor_codec(settings)
    assert build_cursor_codec(settings.with_cursor_keys(KEY.encode())) is not None
    with pytest.raises(ConfigurationError):
        settings.with_cursor_keys(b"short")


def test_the_factory_builds_each_backend(tmp_path: Path) -> None:
    sqlite = build_item_store(ItemStoreSettings(sqlite_path=tmp_path / "nested" / "dir" / "items.sqlite3"))
    assert isinstance(sqlite, SqliteItemStore)
    assert (tmp_path / "nested" / "dir" / "items.sqlite3").exists(), "file and directories created on demand"
    sqlite.close()
    dynamo = build_item_store(
        ItemStoreSettings(backend="dynamodb", table_name="items"),
        dynamodb_client=object(),  # type: ignore[arg-type]
    )
    assert isinstance(dynamo, DynamoItemStore)


def test_a_local_service_works_without_any_configured_key(tmp_path: Path) -> None:
    service = build_item_service(ItemStoreSettings(sqlite_path=tmp_path / "items.sqlite3"))
    for n in range(3):
        service.add(ALICE, f"n{n}")
    page = service.list_items(ALICE, limit=1)
    assert page.next_cursor is not None
    assert len(service.list_items(ALICE, limit=5, cursor=page.next_cursor).items) == 2


def test_every_variable_read_is_documented() -> None:
    source = inspect.getsource(ItemStoreSettings.from_env)
    read = set(re.findall(r'"(ITEMS_[A-Z0-9_]+)"', source))
    assert read == set(ENV_DOC)

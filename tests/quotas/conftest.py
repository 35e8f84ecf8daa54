"""The quota store on each backend: SQLite on a temporary file, DynamoDB through moto's server on
127.0.0.1 in a fresh item table (quotas share it)."""

from __future__ import annotations

from app.quotas.dynamo_store import DynamoQuotaStore
from app.quotas.sqlite_store import SqliteQuotaStore
from tests.fixtures.backends import store_fixture
from tests.items.conftest import dynamodb_client, dynamodb_table, moto_endpoint  # noqa: F401

store = store_fixture(SqliteQuotaStore, DynamoQuotaStore)

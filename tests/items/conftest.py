"""Fixtures for the item store tests: principals, a clock, and the store
under test on each backend (SQLite on a temporary file, DynamoDB through
moto's server on 127.0.0.1)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.client import BaseClient

from app.items.cursor import CursorCodec
from app.items.dynamo_store import TTL_ATTRIBUTE, DynamoItemStore, table_definition
from app.items.factory import make_dynamodb_client
from app.items.port import ItemStore
from app.items.service import ItemService
from app.items.sqlite_store import SqliteItemStore
from app.core.principal import Principal
from tests.fixtures.backends import store_fixture
from tests.fixtures.moto_server import serve_moto

TEST_KEY = b"k" * 32

ALICE = Principal(id="alice", kind="api_key", name="Alice")
BOB = Principal(id="bob", kind="api_key", name="Bob")


class FakeClock:
    """A settable UTC clock, for expiry and ordering without sleeping."""

    def __init__(self, start: datetime = datetime(2030, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def timestamp(self) -> float:
        return self.now.timestamp()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free loopback port for the whole session, one request at a time (see Serialized)."""
    with serve_moto(serialized=True) as endpoint:
        yield endpoint


@pytest.fixture
def dynamodb_client(moto_endpoint: str) -> Iterator[BaseClient]:
    # The product's own client (its config and its response integrity check) pointed at moto.
    client = make_dynamodb_client(
        endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    yield client
    client.close()


@pytest.fixture
def dynamodb_table(dynamodb_client: BaseClient) -> Iterator[str]:
    """A fresh table per test, created from the documented definition."""
    name = f"items-{uuid.uuid4().hex[:12]}"
    dynamodb_client.create_table(**table_definition(name))
    dynamodb_client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    yield name
    dynamodb_client.delete_table(TableName=name)


#: The store under test, once per backend.
store = store_fixture(SqliteItemStore, DynamoItemStore)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(store: ItemStore, clock: FakeClock) -> ItemService:
    """The service over each backend, with a settable clock."""
    return ItemService(store, CursorCodec([TEST_KEY], ttl_s=3600, clock=clock.timestamp), clock=clock)

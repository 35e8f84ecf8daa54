"""Fixtures for the task tests: the task store on each backend (SQLite on a
temporary file; DynamoDB through moto's server on 127.0.0.1, in a table made
from the item table's own definition, since tasks share it), and a clock."""

from __future__ import annotations


import pytest

from app.tasks.dynamo_store import DynamoTaskStore
from app.tasks.port import TaskStore
from app.tasks.service import TaskService, TaskTimings
from app.tasks.sqlite_store import SqliteTaskStore

# The moto server, the DynamoDB client, a fresh item table per test and the clock are the item tests' own.
from tests.fixtures.backends import store_fixture
from tests.items.conftest import FakeClock, clock, dynamodb_client, dynamodb_table, moto_endpoint  # noqa: F401

store = store_fixture(SqliteTaskStore, DynamoTaskStore)


@pytest.fixture
def timings() -> TaskTimings:
    return TaskTimings(ttl_ms=3_600_000, poll_interval_ms=500, dispatch_s=60, lease_s=30)


@pytest.fixture
def service(store: TaskStore, clock: FakeClock, timings: TaskTimings) -> TaskService:
    return TaskService(store, timings, clock=clock)

"""Fixtures for the task tests: the task store on each backend (SQLite on a
temporary file; DynamoDB through moto's server on 127.0.0.1, in a table made
from the item table's own definition, since tasks share it), and a clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.tasks.dynamo_store import DynamoTaskStore
from app.tasks.port import TaskStore
from app.tasks.service import TaskService, TaskTimings
from app.tasks.sqlite_store import SqliteTaskStore

# The moto server, the DynamoDB client, a fresh item table per test and the clock are the item tests' own.
from tests.items.conftest import FakeClock, dynamodb_client, dynamodb_table, moto_endpoint  # noqa: F401

BACKENDS = ["sqlite", "dynamodb"]


def make_store(backend: str, request: pytest.FixtureRequest) -> TaskStore:
    if backend == "sqlite":
        return SqliteTaskStore(request.getfixturevalue("tmp_path") / "items.sqlite3")
    return DynamoTaskStore(request.getfixturevalue("dynamodb_client"), request.getfixturevalue("dynamodb_table"))


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[TaskStore]:
    instance = make_store(request.param, request)
    yield instance
    instance.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timings() -> TaskTimings:
    return TaskTimings(ttl_ms=3_600_000, poll_interval_ms=500, dispatch_s=60, lease_s=30)


@pytest.fixture
def service(store: TaskStore, clock: FakeClock, timings: TaskTimings) -> TaskService:
    return TaskService(store, timings, clock=clock)

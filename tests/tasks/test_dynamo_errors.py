"""The task store reads botocore failures like the item store (one mapping, `app.core.dynamodb_errors`):
throttling (botocore's Stubber) and real transport faults (a loopback server that resets the connection)
become `StoreUnavailable` "busy; retry", an outage is one WARNING under the task store's logger, a
failed condition is the store's own answer, and anything else propagates."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from app.core.errors import Conflict, StoreUnavailable
from app.tasks.dynamo_store import DynamoTaskStore
from app.tasks.extension import ANONYMOUS
from app.tasks.model import new_task, utcnow
from tests.fixtures.backends import fault_client
from tests.fixtures.faults import FaultServer

BUSY = "the task store is busy; retry the same call in a moment"
STORE_LOGGER = "app.tasks.dynamo_store"
RECORD = new_task(
    task_id="t" * 43, owner=ANONYMOUS, tool_name="slow_compute", arguments={}, client={}, now=utcnow(),
    ttl_ms=60_000, poll_interval_ms=1000, dispatch_s=60,
)  # fmt: skip


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == STORE_LOGGER and r.levelno == logging.WARNING]


def test_a_connection_reset_is_busy_logged_once_for_many_calls(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with FaultServer("reset") as server:
        store = DynamoTaskStore(fault_client(server.url), "items")
        for call in (lambda: store.get("p", "t"), lambda: store.create(RECORD), lambda: store.replace(RECORD, 1)):
            with pytest.raises(StoreUnavailable, match=BUSY):
                call()
        assert server.accepted >= 6  # every call really went to the network (twice: botocore retried)
    (warning,) = _warnings(caplog)
    assert warning.getMessage() == "dynamodb unavailable"
    assert warning.__dict__["operation"] == "get_item" and warning.__dict__["error_code"] == "ConnectionClosedError"
    assert warning.exc_info is None


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"])
def test_throttling_after_botocores_retries_is_busy(code: str, caplog: pytest.LogCaptureFixture) -> None:
    client = fault_client()
    store = DynamoTaskStore(client, "items")
    with Stubber(client) as stub:
        stub.add_client_error("get_item", service_error_code=code, http_status_code=400)
        with pytest.raises(StoreUnavailable, match=BUSY):
            store.get("p", "t")
    assert [w.__dict__["error_code"] for w in _warnings(caplog)] == [code]


def test_failed_conditions_are_the_stores_answers_and_other_errors_propagate() -> None:
    client = fault_client()
    store = DynamoTaskStore(client, "items")
    with Stubber(client) as stub:
        stub.add_client_error("put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400)
        stub.add_client_error("put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400)
        stub.add_client_error("get_item", service_error_code="ResourceNotFoundException", http_status_code=400)
        with pytest.raises(Conflict):
            store.create(RECORD)
        assert store.replace(RECORD, 1) is False
        with pytest.raises(ClientError):
            store.get("p", "t")

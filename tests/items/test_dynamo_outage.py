"""A DynamoDB outage through the item tools: "busy; retry", one WARNING, no traceback (issue 8, item 8).

The real boto3 client talks to a loopback server that fails the way a
network does (tests/fixtures/faults.py): it closes or resets the connection
mid-request, never answers, or is not there at all. The item tools are
called through an MCP client, as an agent calls them.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from mcp import Client

from app.items.cursor import CursorCodec
from app.items.dynamo_store import DynamoItemStore, OutageLog
from app.items.model import ITEM_STORE_BUSY
from app.items.service import ItemService
from tests.fixtures.backends import fault_client
from tests.fixtures.faults import FaultServer

from .conftest import ALICE, TEST_KEY
from .test_tools import build_server, text

pytestmark = pytest.mark.anyio

BUSY = ITEM_STORE_BUSY  # names the idempotency_key retry (issue 20, item 5)
STORE_LOGGER = "app.items.dynamo_store"


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["close", "reset", "blackhole", "refused"])
def faulty_endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(endpoint URL, the botocore error it causes)."""
    if request.param == "refused":
        yield f"http://127.0.0.1:{_closed_loopback_port()}", "EndpointConnectionError"
        return
    expected = {"close": "ConnectionClosedError", "reset": "ConnectionClosedError", "blackhole": "ReadTimeoutError"}
    with FaultServer(request.param) as server:
        yield server.url, expected[request.param]


def _service(endpoint: str) -> ItemService:
    return ItemService(DynamoItemStore(fault_client(endpoint), "items"), CursorCodec([TEST_KEY], ttl_s=3600))


def _store_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == STORE_LOGGER and r.levelno == logging.WARNING]


async def test_dynamodb_connection_reset_is_store_unavailable_not_a_crash(
    faulty_endpoint: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, error = faulty_endpoint
    caplog.set_level(logging.INFO)
    async with Client(build_server(lambda: _service(endpoint), ALICE), cache=None) as client:
        result = await client.call_tool("items_get", {"id": "01a1fb000000abc"})
    assert result.is_error
    assert BUSY in text(result) and "incident" not in text(result)
    (warning,) = _store_warnings(caplog)
    assert warning.getMessage() == "dynamodb unavailable"
    assert warning.__dict__["error_code"] == error and warning.__dict__["operation"] == "get_item"
    assert warning.exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_an_outage_logs_one_warning_not_one_per_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with FaultServer("reset") as server:
        service = _service(server.url)
        async with Client(build_server(lambda: service, ALICE), cache=None) as client:
            results = [await client.call_tool(name, args) for name, args in [
                ("items_get", {"id": "01a1fb000000abc"}),
                ("items_list", {}),
                ("items_add", {"title": "t"}),
                ("items_search", {"text": "x"}),
                ("items_delete", {"id": "01a1fb000000abc"}),
            ]]  # fmt: skip
        assert server.accepted >= 10  # every call really went to the network, twice
    assert all(result.is_error and BUSY in text(result) for result in results)
    assert len(_store_warnings(caplog)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_outage_log_repeats_at_most_once_per_interval_and_reports_recovery(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    outages = OutageLog(interval=60, clock=clock)
    caplog.set_level(logging.INFO, logger=STORE_LOGGER)
    outages.succeeded()  # healthy: nothing to say
    for _ in range(100):
        outages.failed("get_item", "ConnectionClosedError")
        clock.now += 1
    outages.succeeded()
    outages.succeeded()
    outages.failed("query", "ReadTimeoutError")  # a new outage is logged at once
    lines = [(r.levelname, r.getMessage(), r.__dict__.get("failures_not_logged")) for r in caplog.records]
    assert lines == [
        ("WARNING", "dynamodb unavailable", None),  # t=1000
        ("WARNING", "dynamodb unavailable", 59),  # t=1060
        ("INFO", "dynamodb available again", 39),
        ("WARNING", "dynamodb unavailable", None),
    ]

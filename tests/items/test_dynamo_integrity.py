"""A damaged DynamoDB response is "busy; retry", never "not found" or an empty success (issue 16, item 6).

The product's own DynamoDB client (`make_dynamodb_client`: its retry mode and the
integrity check of `app.core.dynamodb_integrity`) talks to moto's server through a loopback
proxy that damages the answers (tests/fixtures/faults.py `DamagingProxy`): a flipped
byte under DynamoDB's `x-amz-crc32`, a body cut in half with a matching
Content-Length, an empty or non-JSON `200`. The item is really there every time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from app.core.dynamodb_integrity import CorruptResponse, check_response
from app.core.errors import NotFound, StoreUnavailable
from app.items.cursor import CursorCodec
from app.items.dynamo_store import DynamoItemStore
from app.items.factory import make_dynamodb_client
from app.items.service import ItemService
from tests.fixtures.faults import DamagingProxy

from .conftest import ALICE, TEST_KEY

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[DamagingProxy]:
    with DamagingProxy(moto_endpoint) as server:
        yield server


@pytest.fixture
def service_through_proxy(proxy: DamagingProxy, dynamodb_table: str) -> ItemService:
    client = make_dynamodb_client(endpoint_url=proxy.url, **CREDENTIALS)
    return ItemService(DynamoItemStore(client, dynamodb_table), CursorCodec([TEST_KEY], ttl_s=3600))


@pytest.fixture
def item_id(service_through_proxy: ItemService) -> str:
    return service_through_proxy.add(ALICE, "there all along", "b").item.id


def test_the_proxy_is_faithful_when_it_damages_nothing(service_through_proxy: ItemService, item_id: str, proxy: DamagingProxy) -> None:
    assert service_through_proxy.get(ALICE, item_id).title == "there all along"
    assert proxy.damaged == 0


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage"])
def test_a_damaged_get_is_store_unavailable_never_not_found(
    service_through_proxy: ItemService, item_id: str, proxy: DamagingProxy, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.damage = damage  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="app.items.dynamo_store"):
        with pytest.raises(StoreUnavailable) as raised:
            service_through_proxy.get(ALICE, item_id)
    assert not isinstance(raised.value, NotFound)
    assert "retry" in str(raised.value)
    # botocore retried the checksum mismatches itself first (standard/adaptive modes), then gave up.
    assert proxy.damaged >= (4 if damage in ("flip", "truncate") else 1)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING], "the outage is logged once"
    proxy.damage = "none"
    assert service_through_proxy.get(ALICE, item_id).title == "there all along"  # and it recovers


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_search_is_store_unavailable_never_an_empty_page(
    service_through_proxy: ItemService, item_id: str, proxy: DamagingProxy, damage: str
) -> None:
    proxy.damage = damage  # type: ignore[assignment]
    with pytest.raises(StoreUnavailable):
        service_through_proxy.list_items(ALICE, limit=10)


def test_without_the_check_botocore_hands_over_a_flipped_get_as_not_found(
    proxy: DamagingProxy, item_id: str, dynamodb_table: str, dynamodb_client: object
) -> None:
    """Why the check exists: the same damage through a plain client in our retry mode reads as 'no item'."""
    plain = boto3.client(
        "dynamodb", endpoint_url=proxy.url, config=Config(retries={"mode": "adaptive", "max_attempts": 2}), **CREDENTIALS
    )
    proxy.damage = "flip"
    keys = dynamodb_client.scan(TableName=dynamodb_table)  # type: ignore[attr-defined]  # straight to moto
    key = next(i for i in keys["Items"] if i.get("title", {}).get("S") == "there all along")
    answer = plain.get_item(TableName=dynamodb_table, Key={"PK": key["PK"], "SK": key["SK"]})
    assert "Item" not in answer  # a success without the item: "not found"


class _Response:
    def __init__(self, body: bytes, crc: str | None, status: int = 200) -> None:
        self.content, self.status_code = body, status
        self.headers = {} if crc is None else {"x-amz-crc32": crc}


class _Model:
    name = "GetItem"


@pytest.mark.parametrize(
    ("body", "crc", "status", "ok"),
    [
        (b"{}", "2745614147", 200, True),  # the smallest success, correctly signed
        (b"{}", None, 200, True),  # unsigned but whole (a DynamoDB-compatible emulator)
        (b'{"__type":"x#ConditionalCheckFailedException"}', None, 400, True),  # errors are botocore's to parse
        (b"{}", "1", 200, False),
        (b"{}", "not-a-number", 200, False),
        (b"", None, 200, False),
        (b"<html>", None, 200, False),
        (b'{"Item": {"PK": {"S": "a"', None, 200, False),  # cut short, no checksum to tell
    ],
    ids=["signed", "unsigned", "error-status", "mismatch", "bad-header", "empty", "not-json", "cut-unsigned"],
)
def test_check_response_cases(body: bytes, crc: str | None, status: int, ok: bool) -> None:
    if ok:
        check_response(_Response(body, crc, status), _Model())
    else:
        with pytest.raises(CorruptResponse, match="DynamoDB answered GetItem with a damaged response"):
            check_response(_Response(body, crc, status), _Model())

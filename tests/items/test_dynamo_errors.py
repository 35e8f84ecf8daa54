"""How the DynamoDB adapter reads AWS errors: by code, in one place.

botocore's Stubber answers each call with a canned error, so these cases
(throttling, cancelled transactions) need no server at all.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from app.items.dynamo_store import DynamoItemStore
from app.core.errors import StoreUnavailable
from app.items.model import Item
from app.items.port import IdempotencyRecord

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ITEM = Item(id="0" * 12 + "tok", title="t", body="", tags=(), version=1, created_at=NOW, updated_at=NOW)
RECORD = IdempotencyRecord(key="k", item_id=ITEM.id, fingerprint="f", expires_at=NOW + timedelta(hours=1))


def _client(**config: object) -> BaseClient:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config),  # type: ignore[arg-type]
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[DynamoItemStore, Stubber]]:
    client = _client()
    with Stubber(client) as stubber:
        yield DynamoItemStore(client, "items"), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"],
    ids=["provisioned-throughput", "throttling", "request-limit", "internal-server-error"],
)
def test_throttling_becomes_a_retryable_domain_error(stubbed: tuple[DynamoItemStore, Stubber], code: str) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code=code, service_message="whatever text", http_status_code=400)
    with pytest.raises(StoreUnavailable, match="retry"):
        store.get("alice", ITEM.id)


def test_other_errors_propagate_unchanged(stubbed: tuple[DynamoItemStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("query", service_error_code="AccessDeniedException", http_status_code=400)
    with pytest.raises(ClientError) as err:
        store.count("alice")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_message_text_is_never_what_decides(stubbed: tuple[DynamoItemStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error(
        "get_item", service_error_code="ValidationException", service_message="Throttling ProvisionedThroughputExceeded"
    )
    with pytest.raises(ClientError):
        store.get("alice", ITEM.id)


@pytest.mark.parametrize(
    ("old_item", "outcome"),
    [({"PK": {"S": "P#alice"}, "SK": {"S": "ITEM#x"}, "version": {"N": "3"}}, "stale"), (None, "missing")],
    ids=["exists-other-version", "absent"],
)
def test_a_failed_condition_tells_stale_from_missing(
    stubbed: tuple[DynamoItemStore, Stubber], old_item: dict[str, object] | None, outcome: str
) -> None:
    store, stubber = stubbed
    extra = {"Item": old_item} if old_item else None
    stubber.add_client_error(
        "put_item",
        service_error_code="ConditionalCheckFailedException",
        http_status_code=400,
        modeled_fields=extra,
    )
    assert store.replace("alice", ITEM, 1) == outcome


def _cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


def test_transaction_conflicts_are_retried_then_reported_busy(stubbed: tuple[DynamoItemStore, Stubber]) -> None:
    store, stubber = stubbed
    for _ in range(3):
        _cancelled(stubber, "None", "TransactionConflict")
        stubber.add_response("get_item", {})  # the competing request has not committed either
    with pytest.raises(StoreUnavailable):
        store.create("alice", ITEM, RECORD, NOW)


def test_a_conflicting_winner_is_found_by_rereading(stubbed: tuple[DynamoItemStore, Stubber]) -> None:
    store, stubber = stubbed
    _cancelled(stubber, "None", "TransactionConflict")
    winner = {
        "PK": {"S": "P#alice"},
        "SK": {"S": "IDEM#k"},
        "item_id": {"S": "winner-id"},
        "fingerprint": {"S": "f"},
        "expires_at": {"N": str(int((NOW + timedelta(hours=1)).timestamp()))},
    }
    stubber.add_response("get_item", {"Item": winner})
    existing = store.create("alice", ITEM, RECORD, NOW)
    assert existing is not None and existing.item_id == "winner-id"


def test_an_id_collision_is_not_mistaken_for_a_taken_key(stubbed: tuple[DynamoItemStore, Stubber]) -> None:
    store, stubber = stubbed
    _cancelled(stubber, "ConditionalCheckFailed", "None")
    with pytest.raises(ClientError):
        store.create("alice", ITEM, RECORD, NOW)


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_endpoint_is_reported_busy() -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{_closed_loopback_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )
    with pytest.raises(StoreUnavailable):
        DynamoItemStore(client, "items").get("alice", ITEM.id)

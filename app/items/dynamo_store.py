"""The DynamoDB adapter: the store on Lambda.

Single-table design, one partition per principal (the table itself comes
from the SAM template; `docs` in this package's `__init__` list what it
needs):

    PK (S)              SK (S)              attributes
    "P#<principal id>"  "ITEM#<item id>"    id, title, body, tags (L of S), version (N),
                                            created_at, updated_at (ISO 8601 S)
    "P#<principal id>"  "IDEM#<key>"        item_id, fingerprint, expires_at (N, epoch s; TTL)

Every read is strongly consistent (an agent reads its own writes). Every
write is conditional; an item and its idempotency record are written in one
transaction. `ClientError` codes are turned into outcomes or domain errors in
`_classify` alone, by code, never by message text.

Throttling that outlasts botocore's retries, and every transport failure,
become `StoreUnavailable` ("busy; retry the same call"), and an outage is
logged once, not per call: `app.core.dynamodb_errors`, shared with the task store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from app.core import dynamodb_errors
from app.core.dynamodb_errors import OUTAGE_LOG_INTERVAL_S, RETRYABLE_CODES
from app.core.errors import StoreUnavailable
from app.core.timestamps import format_timestamp, parse_timestamp
from app.items.model import ITEM_STORE_BUSY, Item, Order
from app.items.port import IdempotencyRecord, StorePage, WriteOutcome

logger = logging.getLogger(__name__)

AttributeMap = Mapping[str, Mapping[str, Any]]
ErrorKind = Literal["condition_failed", "transaction_cancelled", "retryable", "unexpected"]

#: The whole ClientError vocabulary of this adapter, by code (the retryable ones are shared).
_ERROR_KINDS: dict[str, ErrorKind] = {
    "ConditionalCheckFailedException": "condition_failed",
    "TransactionCanceledException": "transaction_cancelled",
    **{code: "retryable" for code in RETRYABLE_CODES},
}
#: Why a transaction may be cancelled and worth another try (CancellationReasons codes).
_CANCELLATION_RETRYABLE = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
_BUSY = ITEM_STORE_BUSY
#: Concurrent transactions on the same idempotency key cancel each other
#: ("TransactionConflict"); the loser re-reads and, if needed, tries again.
_TRANSACTION_ATTEMPTS = 3


def table_definition(table_name: str) -> dict[str, Any]:
    """`CreateTable` arguments for the table this adapter needs: what the SAM
    template declares, and what tests and local scripts create. After creating
    it, enable TTL on `TTL_ATTRIBUTE` (idempotency records expire)."""
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


TTL_ATTRIBUTE = "expires_at"


def _classify(err: ClientError) -> ErrorKind:
    return _ERROR_KINDS.get(err.response.get("Error", {}).get("Code", ""), "unexpected")


class OutageLog(dynamodb_errors.OutageLog):
    """`dynamodb_errors.OutageLog` writing under this module's logger (where the item store's lines come from)."""

    def __init__(self, interval: float = OUTAGE_LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(interval, clock, logger=logger)


def _pk(principal_id: str) -> dict[str, str]:
    return {"S": f"P#{principal_id}"}


def _item_key(principal_id: str, item_id: str) -> dict[str, dict[str, str]]:
    return {"PK": _pk(principal_id), "SK": {"S": f"ITEM#{item_id}"}}


def _idem_key(principal_id: str, key: str) -> dict[str, dict[str, str]]:
    return {"PK": _pk(principal_id), "SK": {"S": f"IDEM#{key}"}}


def _item_attributes(principal_id: str, item: Item) -> dict[str, Any]:
    return {
        **_item_key(principal_id, item.id),
        "id": {"S": item.id},
        "title": {"S": item.title},
        "body": {"S": item.body},
        "tags": {"L": [{"S": tag} for tag in item.tags]},
        "version": {"N": str(item.version)},
        "created_at": {"S": format_timestamp(item.created_at)},
        "updated_at": {"S": format_timestamp(item.updated_at)},
    }


def _item_from(attrs: AttributeMap) -> Item:
    return Item(
        id=attrs["id"]["S"],
        title=attrs["title"]["S"],
        body=attrs["body"]["S"],
        tags=tuple(tag["S"] for tag in attrs["tags"]["L"]),
        version=int(attrs["version"]["N"]),
        created_at=parse_timestamp(attrs["created_at"]["S"]),
        updated_at=parse_timestamp(attrs["updated_at"]["S"]),
    )


def _record_from(key: str, attrs: AttributeMap) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        item_id=attrs["item_id"]["S"],
        fingerprint=attrs["fingerprint"]["S"],
        expires_at=datetime.fromtimestamp(int(attrs["expires_at"]["N"]), tz=UTC),
    )


class DynamoItemStore:
    """`ItemStore` on one DynamoDB table. Give it a client built once per process."""

    def __init__(self, client: BaseClient, table_name: str, *, outages: OutageLog | None = None) -> None:
        self._client = client
        self._table = table_name
        self._outages = outages or OutageLog()

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Run one API call; throttling and network trouble become `StoreUnavailable`
        (botocore has already retried them), everything else propagates."""
        return dynamodb_errors.call(self._client, operation, self._outages, _BUSY, **kwargs)

    def create(
        self, principal_id: str, item: Item, idempotency: IdempotencyRecord | None, now: datetime
    ) -> IdempotencyRecord | None:
        put_item = {
            "TableName": self._table,
            "Item": _item_attributes(principal_id, item),
            # An id collision is astronomically unlikely; still, never overwrite.
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if idempotency is None:
            self._call("put_item", **put_item)
            return None
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                self._call(
                    "transact_write_items",
                    TransactItems=[{"Put": put_item}, {"Put": self._idempotency_put(principal_id, idempotency, now)}],
                )
                return None
            except ClientError as err:
                if _classify(err) != "transaction_cancelled":
                    raise
                reasons = err.response.get("CancellationReasons", [])
                codes = [reason.get("Code") for reason in reasons]
                key_taken = len(reasons) == 2 and codes[1] == "ConditionalCheckFailed"
                if key_taken and "Item" in reasons[1]:
                    return _record_from(idempotency.key, reasons[1]["Item"])
                if not key_taken and not _CANCELLATION_RETRYABLE.intersection(codes):
                    raise
                # Another request holds the same key right now; it may have won already.
                existing = self._live_record(principal_id, idempotency.key, now)
                if existing is not None:
                    return existing
                logger.info("idempotent add retried", extra={"attempt": attempt, "reasons": codes})
                time.sleep(0.05 * attempt)
        # The transaction kept being cancelled: as busy as throttling.
        self._outages.failed("transact_write_items", "RuntimeError")
        raise StoreUnavailable(_BUSY)

    def _idempotency_put(self, principal_id: str, record: IdempotencyRecord, now: datetime) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": {
                **_idem_key(principal_id, record.key),
                "item_id": {"S": record.item_id},
                "fingerprint": {"S": record.fingerprint},
                "expires_at": {"N": str(int(record.expires_at.timestamp()))},
            },
            # TTL deletion lags by up to days, so an expired record still present is treated as absent.
            "ConditionExpression": "attribute_not_exists(PK) OR expires_at < :now",
            "ExpressionAttributeValues": {":now": {"N": str(int(now.timestamp()))}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _live_record(self, principal_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        response = self._call("get_item", TableName=self._table, Key=_idem_key(principal_id, key), ConsistentRead=True)
        attrs = response.get("Item")
        if attrs is None or int(attrs["expires_at"]["N"]) < int(now.timestamp()):
            return None
        return _record_from(key, attrs)

    def get(self, principal_id: str, item_id: str) -> Item | None:
        response = self._call(
            "get_item", TableName=self._table, Key=_item_key(principal_id, item_id), ConsistentRead=True
        )
        attrs = response.get("Item")
        return None if attrs is None else _item_from(attrs)

    def replace(self, principal_id: str, item: Item, expected_version: int) -> WriteOutcome:
        return self._conditional(
            "put_item",
            Item=_item_attributes(principal_id, item),
            ConditionExpression="attribute_exists(PK) AND version = :expected",
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        )

    def delete(self, principal_id: str, item_id: str, expected_version: int | None) -> WriteOutcome:
        if expected_version is None:
            return self._conditional(
                "delete_item", Key=_item_key(principal_id, item_id), ConditionExpression="attribute_exists(PK)"
            )
        return self._conditional(
            "delete_item",
            Key=_item_key(principal_id, item_id),
            ConditionExpression="attribute_exists(PK) AND version = :expected",
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        )

    def _conditional(self, operation: str, **kwargs: Any) -> WriteOutcome:
        try:
            # ALL_OLD on failure tells "no such item" from "other version" without a second read.
            self._call(operation, TableName=self._table, ReturnValuesOnConditionCheckFailure="ALL_OLD", **kwargs)
        except ClientError as err:
            if _classify(err) != "condition_failed":
                raise
            return "stale" if err.response.get("Item") else "missing"
        return "ok"

    def page(self, principal_id: str, *, order: Order, after_id: str | None, limit: int) -> StorePage:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :items)",
            "ExpressionAttributeValues": {":pk": _pk(principal_id), ":items": {"S": "ITEM#"}},
            "ScanIndexForward": order == "oldest",
            "ConsistentRead": True,
        }
        if after_id is not None:
            # A position, not a stored LastEvaluatedKey: it need not exist, and
            # the caller's cursor (signed, bound to the principal) is what carries it.
            query["ExclusiveStartKey"] = _item_key(principal_id, after_id)
        items: list[Item] = []
        # One extra item answers "is there a next page?"; a 1 MB response cap
        # may cut a page short, hence the loop.
        while True:
            response = self._call("query", Limit=limit + 1 - len(items), **query)
            items.extend(_item_from(attrs) for attrs in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if len(items) > limit or last_key is None:
                break
            query["ExclusiveStartKey"] = last_key
        return StorePage(items=tuple(items[:limit]), has_more=len(items) > limit)

    def count(self, principal_id: str) -> int:
        query: dict[str, Any] = {
            "TableName": self._table,
            "Select": "COUNT",
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :items)",
            "ExpressionAttributeValues": {":pk": _pk(principal_id), ":items": {"S": "ITEM#"}},
            "ConsistentRead": True,
        }
        total = 0
        while True:
            response = self._call("query", **query)
            total += int(response.get("Count", 0))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None:
                return total
            query["ExclusiveStartKey"] = last_key

    def close(self) -> None:
        self._client.close()

"""Quotas in the item table (DynamoDB), in the principal's partition beside its items and tasks:

    PK (S)              SK (S)                          attributes
    "P#<principal id>"  "QUOTA#<counter>#<window start>" n (N), expires_at (N; the table's TTL)
    "P#<principal id>"  "QUOTA#working"                  slots (S, JSON key -> expiry), version (N)

The counter is one UpdateItem `ADD n :one` with the condition
`attribute_not_exists(n) OR n < :limit`: DynamoDB applies it atomically, so
concurrent callers on any number of instances never exceed the limit; a failed
condition is the refusal. Counters carry `expires_at` so the table's TTL
removes old windows. The slot set is a versioned item written with a
compare-and-set. Item queries select `begins_with(SK, "ITEM#")`, so quota rows
never show up among items. Throttling and network failures become
`StoreUnavailable` (`app.core.dynamodb_errors`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from app.core import dynamodb_errors
from app.core.dynamodb_errors import conditional, error_code
from app.quotas.model import Window

logger = logging.getLogger(__name__)

_BUSY = "the quota store is busy; retry the same call in a moment"
#: Keep a window's counter a little past its end (TTL deletes lazily anyway).
_COUNTER_GRACE_S = 60


def _pk(principal_id: str) -> dict[str, str]:
    return {"S": f"P#{principal_id}"}


class DynamoQuotaStore:
    def __init__(self, client: Any, table_name: str, *, outages: dynamodb_errors.OutageLog | None = None) -> None:
        self._client = client  # a BaseClient or the composition root's LazyClient (built at first use)
        self._table = table_name
        self._outages = outages or dynamodb_errors.OutageLog(logger=logger)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        client: BaseClient = self._client
        return dynamodb_errors.call(client, operation, self._outages, _BUSY, TableName=self._table, **kwargs)

    def increment(self, principal_id: str, counter: str, window: Window, limit: int) -> bool:
        if limit <= 0:
            return False
        try:
            self._call(
                "update_item",
                Key={"PK": _pk(principal_id), "SK": {"S": f"QUOTA#{counter}#{window.start}"}},
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":exp": {"N": str(window.resets_at + _COUNTER_GRACE_S)},
                },
            )
        except ClientError as err:
            if error_code(err) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def read_slots(self, principal_id: str) -> tuple[dict[str, float], int]:
        response = self._call(
            "get_item", Key={"PK": _pk(principal_id), "SK": {"S": "QUOTA#working"}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return {}, 0
        return {str(k): float(v) for k, v in json.loads(item["slots"]["S"]).items()}, int(item["version"]["N"])

    def write_slots(self, principal_id: str, slots: dict[str, float], expected_version: int) -> bool:
        item = {
            "PK": _pk(principal_id),
            "SK": {"S": "QUOTA#working"},
            "slots": {"S": json.dumps(slots, separators=(",", ":"))},
            "version": {"N": str(expected_version + 1)},
        }
        if expected_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        return conditional(self._call, "put_item", Item=item, **condition)

    def close(self) -> None:
        pass  # the client belongs to the composition root (shared with the item and task stores)

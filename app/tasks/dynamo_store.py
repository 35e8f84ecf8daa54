"""The DynamoDB adapter: tasks on Lambda, in the item table.

Tasks share the item table (`app.items.dynamo_store`) under their own sort-key
prefix, in the creating principal's partition:

    PK (S)              SK (S)              attributes
    "P#<principal id>"  "TASK#<task id>"    doc (S, the record as JSON), version (N),
                                            status (S), expires_at (N, epoch s; the table's TTL)

Why the same table: it already has what tasks need (on-demand capacity,
point-in-time recovery, encryption, and TTL on `expires_at`), the functions'
IAM already names it, and the principal partition makes another principal's
task unreachable by key, not by a check that could be forgotten. The item
queries select `begins_with(SK, "ITEM#")`, so tasks never show up among items.
A separate table would buy independent capacity and retention, which a
few writes per task do not need.

Every read is strongly consistent (`tasks/get` right after `CreateTaskResult`,
on any instance, finds the task). Every write is conditional: creation on the
key being absent, every transition on the version it was computed from.
DynamoDB deletes a task some time after `expires_at` (TTL lags by up to days);
the service treats an expired task as unknown before that. Throttling and
network failures become `StoreUnavailable` and an outage is logged once, as in
the item store (`app.core.dynamodb_errors`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from app.core import dynamodb_errors
from app.core.dynamodb_errors import conditional, error_code
from app.core.errors import Conflict
from app.tasks.model import TaskRecord, from_document, to_document

logger = logging.getLogger(__name__)

_BUSY = "the task store is busy; retry the same call in a moment"
TASK_PREFIX = "TASK#"


def _key(principal_id: str, task_id: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"P#{principal_id}"}, "SK": {"S": f"{TASK_PREFIX}{task_id}"}}


class DynamoTaskStore:
    """`TaskStore` on the item table. Give it a client built once per process."""

    def __init__(
        self, client: BaseClient, table_name: str, *, outages: dynamodb_errors.OutageLog | None = None
    ) -> None:
        self._client = client
        self._table = table_name
        self._outages = outages or dynamodb_errors.OutageLog(logger=logger)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Throttling and network trouble become `StoreUnavailable` (`app.core.dynamodb_errors`); the rest propagates."""
        return dynamodb_errors.call(self._client, operation, self._outages, _BUSY, TableName=self._table, **kwargs)

    def _attributes(self, record: TaskRecord) -> dict[str, Any]:
        return {
            **_key(record.principal_id, record.task_id),
            "doc": {"S": json.dumps(to_document(record), separators=(",", ":"), ensure_ascii=False)},
            "version": {"N": str(record.version)},
            "status": {"S": record.status},
            "expires_at": {"N": str(int(record.expires_at.timestamp()))},
        }

    def create(self, record: TaskRecord) -> None:
        try:
            self._call("put_item", Item=self._attributes(record), ConditionExpression="attribute_not_exists(PK)")
        except ClientError as err:
            if error_code(err) != "ConditionalCheckFailedException":
                raise
            raise Conflict("a task with this id already exists") from None

    def get(self, principal_id: str, task_id: str) -> TaskRecord | None:
        response = self._call("get_item", Key=_key(principal_id, task_id), ConsistentRead=True)
        attrs = response.get("Item")
        return None if attrs is None else from_document(json.loads(attrs["doc"]["S"]))

    def replace(self, record: TaskRecord, expected_version: int) -> bool:
        return conditional(
            self._call,
            "put_item",
            Item=self._attributes(record),
            ConditionExpression="attribute_exists(PK) AND version = :expected",
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        )

    def close(self) -> None:
        self._client.close()

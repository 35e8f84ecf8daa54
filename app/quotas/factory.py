"""Builds the quota guard once per process, on the store the deployment already has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import NotFound
from app.items.config import ItemStoreSettings
from app.quotas.config import QuotaSettings
from app.quotas.guard import QuotaGuard
from app.quotas.service import QuotaService

if TYPE_CHECKING:
    from app.tasks.factory import TaskRuntime


def build_quota_guard(
    settings: QuotaSettings, items: ItemStoreSettings, *, dynamodb_client: Any = None, tasks: TaskRuntime | None = None
) -> QuotaGuard:
    if items.backend == "dynamodb":
        from app.quotas.dynamo_store import DynamoQuotaStore  # imports botocore

        assert items.table_name is not None  # ItemStoreSettings guarantees it
        store: Any = DynamoQuotaStore(dynamodb_client, items.table_name)
    else:
        from app.quotas.sqlite_store import SqliteQuotaStore

        store = SqliteQuotaStore(items.sqlite_path)
    if tasks is None:
        return QuotaGuard(QuotaService(store, settings))
    from app.tasks.extension import declared_tasks, in_task

    service = tasks.service

    def working(principal_id: str, task_id: str) -> bool:
        try:
            return not service.get(principal_id, task_id).terminal  # get records a lapsed lease as failed
        except NotFound:
            return False  # expired or gone

    def starts_task(ctx: Any, name: str) -> bool:
        return tasks.extension.support(name).support != "forbidden" and declared_tasks(ctx)

    poll_s = service.timings.poll_interval_ms / 1000.0
    return QuotaGuard(
        QuotaService(store, settings, working=working, poll_s=max(poll_s, 1.0)), starts_task=starts_task, in_task_run=in_task
    )

"""The item store through the product's Lambda handler: cases `items-sqlite` and `items-dynamodb`.

Also the item probes and the check of an item tool's answer (`check_item`), which `bench.product_tasks`
shares. DynamoDB is moto's server on 127.0.0.1 (`bench.aws`).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from bench import aws, events
from bench.cases import Case, Probe, default_heap, register
from bench.product_setup import AUTH, DEV_KEY, product_handler, tempdir

ITEM_TITLE = "bench item"


def check_item(*, created: bool | None = None):
    """A checker for items_get (created None) / items_add (created True): 200, no error, the bench item."""

    def check(response: Mapping[str, Any]) -> str | None:
        status, message, _ = events.response_message(response)
        if status != 200:
            return f"HTTP {status}: {str(response.get('body'))[:300]}"
        result = (message or {}).get("result")
        if not result or result.get("isError"):
            return f"no result or a tool error: {str(response.get('body'))[:300]}"
        out = result.get("structuredContent") or {}
        item = out.get("item") if created is not None else out
        if created is not None and out.get("created") is not created:
            return f"expected created={created}, got {out.get('created')!r}"
        if not isinstance(item, dict) or item.get("title") != ITEM_TITLE:
            return f"not the bench item: {json.dumps(out)[:300]}"
        return None

    return check


def item_probes(state: Mapping[str, str]) -> dict[str, Probe]:
    add_args = {"title": ITEM_TITLE, "body": "written by the benchmark", "tags": ["bench"]}
    return {
        "items_get": Probe(
            lambda: events.tools_call_event("items_get", {"id": state["item_id"]}, AUTH),
            check_item(),
            "tools/call items_get (an item added in setup)",
        ),
        "items_add": Probe(
            lambda: events.tools_call_event("items_add", add_args, AUTH),
            check_item(created=True),
            "tools/call items_add (no idempotency key: a new item per call)",
        ),
        "items_add_idem": Probe(
            lambda: events.tools_call_event(
                "items_add", {**add_args, "idempotency_key": f"bench-{uuid.uuid4().hex}"}, AUTH
            ),
            check_item(created=True),
            "tools/call items_add (a fresh idempotency key per call)",
            fresh=True,
        ),
    }


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _sqlite_path(store: Any) -> str | None:
    """The file of an SQLite store: on the store, or on its connection pool (the store's private parts)."""
    holder = store if hasattr(store, "_path") else getattr(store, "_pool", None)
    path = getattr(holder, "_path", None)
    return str(path) if path is not None else None


class _Items:
    """One item-store case: the product's handler on a backend, an item to read, and the
    housekeeping between batches of calls (outside any timing):

    - SQLite: every sync tool call runs on a new worker thread (anyio's thread pool does not
      outlive an invocation's root task under Mangum). The store leases pooled connections, so
      file descriptors must not grow with calls: the bench checks that (reported in the notes;
      per-thread connections used to leak two descriptors per call).
    - DynamoDB: moto's TransactWriteItems deep-copies the whole table (its rollback), so an
      idempotent add gets slower with every item in it: an emulator artifact. The bench deletes
      what a batch added (all but the item read), so each batch starts from the same table.
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.state: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.table = ""
        self.ddb: Any = None
        self.store: Any = None
        self.calls = 0
        self.fds_first: int | None = None
        self.fds_last: int | None = None
        self.pooled = 0
        self.items_deleted = 0

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(tempdir())
            self.env = {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": os.path.join(tmp, "items.sqlite3")}
            if self.backend == "dynamodb":
                from app.items.dynamo_store import TTL_ATTRIBUTE, table_definition

                endpoint = stack.enter_context(aws.moto_server())
                self.table = f"mcp-bench-items-{uuid.uuid4().hex[:8]}"
                self.ddb = aws.client("dynamodb", endpoint)
                self.ddb.create_table(**table_definition(self.table))
                self.ddb.update_time_to_live(
                    TableName=self.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
                )
                boto_env = {**aws.CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
                # boto3 reads endpoint, region and credentials from os.environ, not from build_product's mapping.
                stack.enter_context(aws.environ(boto_env))
                self.env.update(ITEMS_BACKEND="dynamodb", ITEMS_TABLE_NAME=self.table, **boto_env)
            try:
                yield
            finally:
                if self.store is not None:
                    self.store.close()
                    self.store = None
                self.ddb = None

    def handler(self):  # noqa: ANN201
        handler = product_handler(self.env)
        response = handler(
            events.tools_call_event("items_add", {"title": ITEM_TITLE, "body": "read by the benchmark"}, AUTH),
            events.FakeLambdaContext(),
        )
        problem = check_item(created=True)(response)
        if problem:
            raise SystemExit(f"items-{self.backend}: could not add the item to read: {problem}")
        _, message, _ = events.response_message(response)
        self.state["item_id"] = message["result"]["structuredContent"]["item"]["id"]  # type: ignore[index]
        if self.backend == "sqlite":
            # The store build_product made (the product does not expose it): found by its file.
            import gc

            from app.items.sqlite_store import SqliteItemStore

            default_heap()  # gc.get_objects() does not list what lambda_handler()'s settle_heap() froze
            path = self.env["ITEMS_SQLITE_PATH"]
            self.store = next(
                o for o in gc.get_objects() if isinstance(o, SqliteItemStore) and _sqlite_path(o) == path
            )
        return handler

    def after_batch(self, calls: int) -> None:
        """Between batches, outside the timing: see the class docstring."""
        self.calls += calls
        if self.store is not None:
            fds = _open_fds()
            if self.fds_first is None:
                self.fds_first = fds
            self.fds_last = fds
            self.pooled = self.store.open_connections()
        if self.ddb is not None:
            keep = f"ITEM#{self.state['item_id']}"
            pages = self.ddb.get_paginator("scan").paginate(TableName=self.table, ProjectionExpression="PK, SK")
            doomed = [item for page in pages for item in page["Items"] if item["SK"]["S"] != keep]
            for i in range(0, len(doomed), 25):
                self.ddb.batch_write_item(
                    RequestItems={self.table: [{"DeleteRequest": {"Key": key}} for key in doomed[i : i + 25]]}
                )
            self.items_deleted += len(doomed)

    def notes(self) -> list[str]:
        if self.backend == "sqlite" and self.calls:
            growth = (self.fds_last - self.fds_first) if self.fds_first is not None and self.fds_last is not None else None
            return [
                f"items-{self.backend}: {self.calls:,} tools/calls on fresh worker threads; open file descriptors "
                f"after the first batch vs the last: {growth if growth is not None else 'n/a'} more; "
                f"{self.pooled} pooled SQLite connection(s) idle (no per-call leak)."
            ]
        if self.backend == "dynamodb" and self.calls:
            return [
                f"items-{self.backend}: {self.items_deleted:,} items/idempotency records deleted between batches "
                "(moto's TransactWriteItems deep-copies the table, so idempotent adds would otherwise slow down as "
                "it grows: an emulator artifact). CPU µs/call counts this process only, i.e. the app's and boto3's "
                "share without moto's."
            ]
        return []


for _backend, _max_calls, _where in (
    ("sqlite", 300, "SQLite temp file"),
    ("dynamodb", 150, "DynamoDB via moto's server on 127.0.0.1 (own process)"),
):
    _items = _Items(_backend)
    register(
        Case(
            name=f"items-{_backend}",
            module="app.main",
            description=f"item tools through the product's Lambda handler (local config, dev key), {_where}",
            probes=item_probes(_items.state),
            warm=("items_get", "items_add", "items_add_idem"),
            cold=(),
            factory=_items.handler,
            settled_heap=True,
            setup=_items.setup,
            max_calls=_max_calls,
            extras={"kind": "items", "backend": _backend, "after_batch": _items.after_batch, "notes": _items.notes},
        )
    )

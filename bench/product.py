"""Cases of the product itself (access control, observability, item store, SnapStart restore).

Registered from `bench.cases`. Unlike `bench.apps`, nothing here builds a
handler at import: these cases are measured warm in-process (factories) or in
a child process of their own (`bench.snapstart`), never as cold imports.

- `project-auth`        the `project` handler plus access control only:
                        `create_lambda_handler(server, settings, wrap=protect)`, a local dev key.
- `project-auth-ring`   the same with an API key checked against a cached key ring (file loader:
                        the same `RefreshingCache` and `KeyRing.verify` as the SSM ring on Lambda).
- `product`             `build_product(...).lambda_handler()`, local configuration:
                        auth + the observability middleware (logging off), every tool registered.
- `product-prod`        the same in the production configuration on Lambda: observability as on
                        Lambda (JSON access log, EMF metrics; tracing off: no X-Ray daemon), logs
                        and EMF written to /dev/null. Only the Lambda-only *secrets* differ: a
                        local dev key instead of the SSM key ring (a cached ring costs the same,
                        see `project-auth-ring`).
- `items-sqlite`, `items-dynamodb`
                        the item tools through the product's Lambda handler (local configuration),
                        on an SQLite temp file / on DynamoDB emulated by moto (separate process,
                        127.0.0.1).
- `tasks-sqlite`        MCP Tasks through the product's Lambda handler on SQLite: task creation and
                        tasks/get beside a plain tools/call (the worker's invoke answered in-process).
- `restore`, `restore-ssm`
                        the first request after a simulated SnapStart restore (`bench.snapstart`),
                        dev key / API key ring in SSM (moto).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bench import aws, events
from bench.cases import Case, Probe, default_heap, register, standard_probes

#: Local-only development key (AuthSettings refuses MCP_DEV_API_KEY on Lambda).
DEV_KEY = "bench-local-dev-key-0001"
AUTH = {"authorization": f"Bearer {DEV_KEY}"}
#: Observability as on Lambda (tests/observability/): metrics on, tracing off.
LAMBDA_LIKE = {
    "AWS_LAMBDA_FUNCTION_NAME": "mcp-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "1",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "POWERTOOLS_SERVICE_NAME": "mcp-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "McpBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
KEYS_PARAM = "/mcp-bench/api-keys"


def add_call_with_key(key: Callable[[], str]) -> dict[str, Probe]:
    """The `call` probe (tools/call add(2, 3) at the handshake era) with the Bearer key `key()` gives at send time."""
    return {
        "call": Probe(
            lambda: events.tools_call_event("add", {"a": 2, "b": 3}, {"authorization": f"Bearer {key()}"}),
            events.check_tool_text("5"),
            f"tools/call add @{events.HANDSHAKE_VERSION}",
        )
    }
ITEM_TITLE = "bench item"


class Sink(io.TextIOBase):
    """A text stream into /dev/null that counts what it was given (lines, characters).

    Each write still reaches a real file object (and its flush a `write(2)`), as a
    log line on Lambda reaches stdout.
    """

    def __init__(self) -> None:
        self._file = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.lines = 0
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.chars += len(text)
        return self._file.write(text)

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._file.close()


# -- builders -----------------------------------------------------------------


def auth_only_handler(auth_env: Mapping[str, str]):  # noqa: ANN201 - a Lambda handler
    """The `project` server and transport with nothing but access control around it."""
    from app import Settings, create_lambda_handler
    from app.auth import AuthSettings, protect
    from bench.apps.project import build_server

    settings = Settings()  # explicit defaults, as bench.apps.project
    auth = AuthSettings.from_env(auth_env)
    return create_lambda_handler(build_server(), settings, wrap=lambda app: protect(app, settings, auth))


def product_of(env: Mapping[str, str], *, lambda_like: bool = False, log_stream: Any = None):  # noqa: ANN201
    """`build_product(env)`; with `lambda_like`, observability configured as on Lambda."""
    from app.main import build_product
    from app.observability import ObservabilitySettings

    # Quotas off unless a case sets them: these cases make thousands of calls as one principal, and
    # their figures stay comparable with earlier runs; `bench.quota` measures the quota check itself.
    product = build_product({"MCP_QUOTA_ENABLED": "false", **env}, log_stream=log_stream)
    if lambda_like:
        product = replace(product, observability=ObservabilitySettings.from_env(LAMBDA_LIKE))
    return product


def product_handler(env: Mapping[str, str], **options: Any):  # noqa: ANN201
    """The handler as Lambda runs it: `Product.lambda_handler()`, which ends with `settle_heap()`.

    Cases built with it set `settled_heap=True` (the bench re-applies the collector settings per batch).
    """
    return product_of(env, **options).lambda_handler()


@contextlib.contextmanager
def _tempdir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="mcp-bench-product-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- access control -----------------------------------------------------------

register(
    Case(
        name="project-auth",
        module="bench.product",
        description="`project` + access control only (protect(), local dev API key as Bearer)",
        probes=standard_probes(headers=AUTH),
        warm=("call", "call_modern"),
        cold=(),
        factory=lambda: auth_only_handler({"MCP_DEV_API_KEY": DEV_KEY}),
        extras={"paired_with": "project"},
    )
)

_ring: dict[str, str] = {}


@contextlib.contextmanager
def _ring_file() -> Iterator[None]:
    from app.auth.keyring import digest_hex, generate_key

    with _tempdir() as tmp:
        key_id, key = generate_key()
        path = os.path.join(tmp, "ring.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump({key_id: {"sha256": digest_hex(key), "name": "bench"}}, out)
        _ring.update(key=key, path=path)
        try:
            yield
        finally:
            _ring.clear()


register(
    Case(
        name="project-auth-ring",
        module="bench.product",
        description="`project` + access control only, API key verified against a cached key ring "
        "(MCP_API_KEYS_FILE: the SSM ring's cache and check, without SSM)",
        probes=add_call_with_key(lambda: _ring["key"]),
        warm=("call",),
        cold=(),
        # TTL above the run's length: every timed call takes the cached path.
        factory=lambda: auth_only_handler({"MCP_API_KEYS_FILE": _ring["path"], "MCP_SECRET_TTL_S": "86400"}),
        setup=_ring_file,
        extras={"paired_with": "project"},
    )
)

#: What tools/list must show with every scope, and with items:read only.
_READ_TOOLS = ("add", "echo", "items_get", "items_search", "items_list")
_WRITE_TOOLS = ("items_add", "items_update", "items_delete")
_ALL_TOOLS = _READ_TOOLS + _WRITE_TOOLS


def list_probe(headers: Mapping[str, str], present: Sequence[str], absent: Sequence[str] = ()) -> Probe:
    """tools/list at the handshake version; the answer must list every tool of `present` and none of `absent`.
    (Names, not a count: other tools join the product over time, e.g. task-capable ones.)"""

    def check(response: Mapping[str, Any]) -> str | None:
        status, message, _ = events.response_message(response)
        listed = ((message or {}).get("result") or {}).get("tools")
        if status != 200 or not isinstance(listed, list):
            return f"HTTP {status}: {str(response.get('body'))[:300]}"
        names = {tool.get("name") for tool in listed}
        missing = sorted(set(present) - names)
        extra = sorted(names & set(absent))
        return f"tools/list lacks {missing} or holds {extra}" if missing or extra else None

    return Probe(
        lambda: events.http_api_event(events.rpc("tools/list", {}, 4), {"mcp-protocol-version": events.HANDSHAKE_VERSION, **headers}),
        check,
        f"tools/list @{events.HANDSHAKE_VERSION}",
    )


# -- the product: local and production configuration ---------------------------

class _Dir:
    """A temporary directory for one case's files (its SQLite item store)."""

    def __init__(self) -> None:
        self.path = ""

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        with _tempdir() as path:
            self.path = path
            yield

    def local_env(self) -> dict[str, str]:
        return {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": os.path.join(self.path, "items.sqlite3")}


_product_dir = _Dir()

register(
    Case(
        name="product",
        module="app.main",
        description="the product, local config: build_product(dev key, SQLite).lambda_handler() "
        "(auth + observability middleware, logging off; every tool registered)",
        probes={**standard_probes(headers=AUTH, modern=False), "list": list_probe(AUTH, _ALL_TOOLS)},
        warm=("call", "list"),
        cold=(),
        factory=lambda: product_handler(_product_dir.local_env()),
        settled_heap=True,
        setup=_product_dir.setup,
        extras={"paired_with": "project"},
    )
)


# Per-item scopes (issue 11): `product` above holds every declared scope (the dev key), so the scope
# middleware passes on one subset check; here a key ring key holds only items:read, so tools/call
# pays the per-tool check and tools/list is filtered (items_add/update/delete left out).
_scoped_dir = _Dir()
_scoped: dict[str, str] = {}


@contextlib.contextmanager
def _scoped_setup() -> Iterator[None]:
    from app.auth.keyring import digest_hex, generate_key

    with _scoped_dir.setup():
        key_id, key = generate_key()
        path = os.path.join(_scoped_dir.path, "ring.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump({key_id: {"sha256": digest_hex(key), "name": "bench-reader", "scopes": ["items:read"]}}, out)
        _scoped.update(key=key, path=path)
        try:
            yield
        finally:
            _scoped.clear()


def _scoped_handler():  # noqa: ANN201
    env = {
        "MCP_API_KEYS_FILE": _scoped["path"],
        "MCP_SECRET_TTL_S": "86400",
        "ITEMS_SQLITE_PATH": os.path.join(_scoped_dir.path, "items.sqlite3"),
    }
    return product_handler(env)


def _reader() -> dict[str, str]:
    return {"authorization": f"Bearer {_scoped['key']}"}


register(
    Case(
        name="product-read-only",
        module="app.main",
        description="the product, local config, an API key (cached ring) holding only items:read: the scope "
        "middleware checks each call and filters tools/list (compare with `product`, which holds every scope)",
        probes={
            "call": Probe(
                lambda: events.tools_call_event("add", {"a": 2, "b": 3}, _reader()),
                events.check_tool_text("5"),
                f"tools/call add @{events.HANDSHAKE_VERSION}",
            ),
            "list": Probe(lambda: list_probe(_reader(), _READ_TOOLS).event(), list_probe({}, _READ_TOOLS, _WRITE_TOOLS).check, f"tools/list @{events.HANDSHAKE_VERSION} (filtered)"),
        },
        warm=("call", "list"),
        cold=(),
        factory=_scoped_handler,
        settled_heap=True,
        setup=_scoped_setup,
    )
)


class _Production:
    """The production-config case's output streams and observability settings."""

    def __init__(self) -> None:
        self.dir = _Dir()
        self.logs: Sink | None = None
        self.stdout: Sink | None = None
        self.settings: Any = None

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        with self.dir.setup():
            self.logs, self.stdout = Sink(), Sink()
            try:
                yield
            finally:
                from app.observability import reset_logging

                reset_logging()  # detach the app's handler from the sink
                self.logs.close()
                self.stdout.close()

    def handler(self):  # noqa: ANN201
        product = product_of(self.dir.local_env(), lambda_like=True, log_stream=self.logs)
        self.settings = product.observability
        return product.lambda_handler()

    @contextlib.contextmanager
    def io(self) -> Iterator[None]:
        """Around every batch of calls: logging on (the bench runs with logging disabled), the
        app's JSON handler on the log sink (another product built later may have replaced it),
        stdout (EMF) into the other sink."""
        from app.observability import configure_logging

        previous = logging.root.manager.disable
        logging.disable(logging.NOTSET)
        configure_logging(self.settings, stream=self.logs)
        try:
            with contextlib.redirect_stdout(self.stdout):
                yield
        finally:
            logging.disable(previous)


production = _Production()

register(
    Case(
        name="product-prod",
        module="app.main",
        description="project, production config: auth + JSON access log + EMF (the product with "
        "observability as on Lambda, tracing off; dev key instead of the SSM ring; logs and EMF to /dev/null)",
        probes=standard_probes(headers=AUTH),
        warm=("call", "call_modern"),
        cold=(),
        factory=production.handler,
        settled_heap=True,
        setup=production.setup,
        around=production.io,
        extras={"output": production},
    )
)

# -- item store -----------------------------------------------------------------


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
            tmp = stack.enter_context(_tempdir())
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

# -- long-running tools (MCP Tasks) ----------------------------------------------------

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
#: The worker function's name as the template would set it; its invoke never leaves this process.
BENCH_WORKER = "mcp-bench-task-worker"


def _tasks_meta() -> dict[str, Any]:
    return events.MODERN_META | {"io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}


def _modern_event(method: str, params: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A 2026-07-28 request that declares the Tasks extension (routing headers mirror the body)."""
    headers = {"mcp-protocol-version": events.MODERN_VERSION, "mcp-method": method, "mcp-name": name, **AUTH}
    return events.http_api_event(events.rpc(method, {**params, "_meta": _tasks_meta()}, 5), headers)


def _task_result(response: Mapping[str, Any]) -> dict[str, Any] | str:
    status, message, _ = events.response_message(response)
    result = (message or {}).get("result")
    if status != 200 or not isinstance(result, dict):
        return f"HTTP {status}: {str(response.get('body'))[:300]}"
    return result


def _check_created(response: Mapping[str, Any]) -> str | None:
    result = _task_result(response)
    if isinstance(result, str):
        return result
    if result.get("resultType") != "task" or result.get("status") != "working" or not result.get("taskId"):
        return f"not a CreateTaskResult: {json.dumps(result)[:300]}"
    return None


class _Tasks:
    """The product on SQLite with the worker function configured (`TASKS_WORKER_FUNCTION`), so a task's
    creation takes the Lambda path: write the task, then `lambda:Invoke` with `InvocationType=Event`.

    The invoke goes through the product's own boto3 client (parameter validation, serialization of the
    event) and is answered 202 by a `before-call` hook on boto3's default session, before signing and
    HTTP: nothing runs the task, so what is timed is creation alone, not the export (the local pool
    would start it on the same CPU). Lambda's real Invoke round trip is not in these figures.
    """

    def __init__(self) -> None:
        self.dir = _Dir()
        self.state: dict[str, str] = {}
        self.invokes = 0

    def _invoked(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        self.invokes += 1
        return AWSResponse("https://lambda.invalid/", 202, {}, None), {"StatusCode": 202, "Payload": b""}

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        import boto3

        with self.dir.setup(), aws.environ(aws.CREDENTIALS):
            if boto3.DEFAULT_SESSION is None:
                boto3.setup_default_session()
            session = boto3.DEFAULT_SESSION
            assert session is not None
            session.events.register("before-call.lambda.Invoke", self._invoked, unique_id="mcp-bench-invoke")
            try:
                yield
            finally:
                session.events.unregister("before-call.lambda.Invoke", unique_id="mcp-bench-invoke")

    def handler(self):  # noqa: ANN201
        env = {
            **self.dir.local_env(),
            "TASKS_WORKER_FUNCTION": BENCH_WORKER,
            # Queued tasks are never claimed here: keep them readable as `working` for the whole run.
            "TASKS_DISPATCH_TIMEOUT_S": "86400",
            "TASKS_TTL_S": "86400",
        }
        handler = product_handler(env)
        context = events.FakeLambdaContext()
        added = handler(events.tools_call_event("items_add", {"title": ITEM_TITLE}, AUTH), context)
        problem = check_item(created=True)(added)
        if problem:
            raise SystemExit(f"tasks-sqlite: could not add the item to read: {problem}")
        self.state["item_id"] = events.response_message(added)[1]["result"]["structuredContent"]["item"]["id"]  # type: ignore[index]
        created = handler(self.create_event(), context)
        problem = _check_created(created)
        if problem or self.invokes != 1:
            raise SystemExit(f"tasks-sqlite: could not create the task to poll: {problem or f'{self.invokes} invokes'}")
        self.state["task_id"] = events.response_message(created)[1]["result"]["taskId"]  # type: ignore[index]
        return handler

    def create_event(self) -> dict[str, Any]:
        return _modern_event("tools/call", {"name": "items_export", "arguments": {}}, "items_export")

    def check_get(self, response: Mapping[str, Any]) -> str | None:
        result = _task_result(response)
        if isinstance(result, str):
            return result
        if result.get("taskId") != self.state["task_id"] or result.get("status") != "working":
            return f"not the queued task: {json.dumps(result)[:300]}"
        return None

    def notes(self) -> list[str]:
        return [
            f"tasks-sqlite: {self.invokes:,} asynchronous invokes of the worker answered 202 in-process "
            "(botocore validated and serialized each; no signing, no HTTP): one per task created."
        ]


_tasks = _Tasks()

register(
    Case(
        name="tasks-sqlite",
        module="app.main",
        description="MCP Tasks through the product's Lambda handler (local config, dev key, SQLite, the worker "
        "function configured, its invoke answered in-process): task creation (tools/call items_export -> "
        "CreateTaskResult) and tasks/get, beside plain tools/calls items_get and items_add, all at 2026-07-28 with the "
        "extension declared",
        probes={
            "task_create": Probe(
                _tasks.create_event,
                _check_created,
                f"tools/call items_export -> CreateTaskResult @{events.MODERN_VERSION}",
            ),
            "task_get": Probe(
                lambda: _modern_event("tasks/get", {"taskId": _tasks.state["task_id"]}, _tasks.state["task_id"]),
                _tasks.check_get,
                f"tasks/get (a working task) @{events.MODERN_VERSION}",
            ),
            "items_get": Probe(
                lambda: _modern_event("tools/call", {"name": "items_get", "arguments": {"id": _tasks.state["item_id"]}}, "items_get"),
                check_item(),
                f"tools/call items_get (plain) @{events.MODERN_VERSION}",
            ),
            # Creation is a durable write before the reply; this is the plain tools/call that writes too.
            "items_add": Probe(
                lambda: _modern_event("tools/call", {"name": "items_add", "arguments": {"title": ITEM_TITLE}}, "items_add"),
                check_item(created=True),
                f"tools/call items_add (plain, one durable write) @{events.MODERN_VERSION}",
            ),
        },
        warm=("items_get", "items_add", "task_create", "task_get"),
        cold=(),
        factory=_tasks.handler,
        settled_heap=True,
        setup=_tasks.setup,
        max_calls=300,  # as items-sqlite: each sync tool call and each creation runs on a new worker thread
        # Reported in the item-store table (the same columns); the 2x target is in bench.report.
        extras={"kind": "items", "backend": "sqlite (tasks)", "notes": _tasks.notes},
    )
)

# -- first request after a simulated SnapStart restore ----------------------------

_ssm: dict[str, str] = {}


@contextlib.contextmanager
def _ssm_ring() -> Iterator[None]:
    from app.auth.keyring import digest_hex, generate_key

    with aws.moto_server() as endpoint:
        key_id, key = generate_key()
        ring = {key_id: {"sha256": digest_hex(key), "name": "bench"}}
        aws.client("ssm", endpoint).put_parameter(Name=KEYS_PARAM, Value=json.dumps(ring), Type="SecureString")
        _ssm.update(key=key, endpoint=endpoint)
        try:
            yield
        finally:
            _ssm.clear()


def _restore_spec(auth_env: Mapping[str, str], os_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        # ITEMS_SQLITE_PATH: the child makes it a temp file of its own.
        "env": {**auth_env},
        "os_environ": dict(os_env or {}),
        "observability_env": LAMBDA_LIKE,
    }


register(
    Case(
        name="restore",
        module="bench.snapstart",
        description="first tools/call after a simulated SnapStart restore (before_snapshot, after_restore) "
        "vs warm calls, in a fresh process; production config, local dev key (no SSM)",
        probes=standard_probes(headers=AUTH, modern=False),
        warm=(),
        cold=(),
        extras={"restore": lambda: _restore_spec({"MCP_DEV_API_KEY": DEV_KEY})},
    )
)
register(
    Case(
        name="restore-ssm",
        module="bench.snapstart",
        description="the same with the API key ring in SSM (moto on 127.0.0.1): after_restore invalidates "
        "it, so the first request refetches it (one GetParameter on a never-used SSM client)",
        probes=add_call_with_key(lambda: _ssm["key"]),
        warm=(),
        cold=(),
        setup=_ssm_ring,
        extras={
            "restore": lambda: _restore_spec(
                {"MCP_API_KEYS_PARAM": KEYS_PARAM},
                {**aws.CREDENTIALS, "AWS_ENDPOINT_URL_SSM": _ssm["endpoint"]},
            )
        },
    )
)

# -- cold start of the product as deployed -----------------------------------------

_deployed_env: dict[str, str] = {}
_deployed: dict[str, str] = {}


@contextlib.contextmanager
def _deployed_setup() -> Iterator[None]:
    """moto on 127.0.0.1 holding what the deployed function reads: the API key ring and the requestState
    key ring in SSM, the item table in DynamoDB (the Lambda API for the task worker is never called)."""
    from app.auth.keyring import digest_hex, generate_key
    from app.items.dynamo_store import table_definition

    with aws.moto_server() as endpoint:
        key_id, key = generate_key()
        ssm = aws.client("ssm", endpoint)
        ring = {key_id: {"sha256": digest_hex(key), "name": "bench"}}
        ssm.put_parameter(Name=DEPLOYED_KEYS_PARAM, Value=json.dumps(ring), Type="SecureString", Overwrite=True)
        ssm.put_parameter(Name=SEALING_PARAM, Overwrite=True, Value="bench-sealing-" + uuid.uuid4().hex * 2, Type="SecureString")
        table = f"mcp-bench-deployed-{uuid.uuid4().hex[:8]}"
        aws.client("dynamodb", endpoint).create_table(**table_definition(table))
        _deployed.update(key=key)
        _deployed_env.update(
            {
                **LAMBDA_LIKE,
                **aws.CREDENTIALS,
                "AWS_ENDPOINT_URL_SSM": endpoint,
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                "AWS_ENDPOINT_URL_LAMBDA": endpoint,
                "MCP_API_KEYS_PARAM": DEPLOYED_KEYS_PARAM,
                "MCP_REQUEST_STATE_KEY_PARAM": SEALING_PARAM,
                "ITEMS_BACKEND": "dynamodb",
                "ITEMS_TABLE_NAME": table,
                "TASKS_WORKER_FUNCTION": "mcp-bench-worker",
            }
        )
        try:
            yield
        finally:
            _deployed.clear()
            _deployed_env.clear()


def _deployed_probes() -> dict[str, Probe]:
    probes = standard_probes(modern=False)

    def with_key(probe: Probe) -> Probe:
        def event() -> dict[str, Any]:
            built = probe.event()
            built["headers"]["authorization"] = f"Bearer {_deployed['key']}"
            return built

        return replace(probe, event=event)

    return {name: with_key(probe) for name, probe in probes.items()}


SEALING_PARAM = "/mcp-bench/request-state-keys"
#: Its own key ring parameter: the moto server is shared with restore-ssm.
DEPLOYED_KEYS_PARAM = "/mcp-bench/deployed/api-keys"

register(
    Case(
        name="product-deployed",
        module="handler",
        description="the product as deployed, cold only: `handler.py` with the template's configuration "
        "(API key ring and requestState keys in SSM, DynamoDB item store, task worker function, JSON logs "
        "and EMF; tracing off), AWS emulated by moto on 127.0.0.1; the first call fetches the key ring",
        probes=_deployed_probes(),
        warm=(),
        cold=("initialize", "call"),
        env=_deployed_env,
        setup=_deployed_setup,
    )
)

"""Composition root: the product, built once per process from the environment.

`handler.py` (Lambda) and `app.dev.local` (`make run`) both start here, so the
deployed function and the local server are the same program with different
configuration: secrets and the item table from SSM and DynamoDB on Lambda,
a development key and an SQLite file locally. Observability and the SnapStart
hooks are attached here too, so nothing below knows about them.

The Lambda handler, outermost first (`Product.lambda_build`):

    ObservedHandler          Powertools logger context, EMF metrics, X-Ray, cold start  (app.observability)
    └ Mangum                 Lambda event <-> one ASGI HTTP cycle, lifespan off   (app.transport.lambda_entry)
      └ StripStage           /{stage} or the custom-domain base path -> root_path (app.transport.lambda_entry)
        └ CORS               when other origins may call (MCP_ALLOWED_ORIGINS; loopback pages under make run)  (app.auth.protect)
          └ AccessControl    credential -> Principal; 401 / 403 / 503             (app.auth.middleware)
            └ Starlette      the MCP route; /health and the OAuth metadata beside it (app.transport.asgi)
              └ McpEndpoint  HTTP checks in order, era routing, one reply         (app.transport.endpoint)
                └ Server.middleware  the chain `server_chain` declares, outermost first (below)
                  └ the handlers     tools, resources, prompts, tasks/*                 (app.server)

`make run` (`Product.asgi_app`) serves the same stack from CORSMiddleware
inwards under uvicorn. SnapStart priming adapts the app *below* AccessControl
with the same `lambda_adapter`, so it needs no credential.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, Any

from mcp.server.mcpserver import MCPServer, RequestStateBoundary
from starlette.types import ASGIApp

from app.core import env as env_values
from app.auth import AuthSettings, protect
from app.auth.authn import Authenticator, build_authenticator
from app.auth.challenge import Challenger
from app.auth.metadata import metadata_routes
from app.auth.request_state import Sealing, build_sealing
from app.auth.ssm import make_ssm_provider
from app.auth.tool_scopes import ScopeGuard
from app.core.aws_client import LazyClient
from app.core.errors import ConfigurationError
from app.items.config import ItemStoreSettings
from app.items.factory import build_item_service, build_item_store, make_dynamodb_client
from app.observability import (
    AuditLog,
    Observability,
    ObservabilitySettings,
    ObservedHandler,
    RequestObserver,
    TaskFailureMetric,
    configure_logging,
)
from app.observability.audit import AUDIT_KEY_LABEL
from app.quotas.config import QuotaSettings
from app.quotas.factory import build_quota_guard
from app.quotas.guard import QuotaGuard
from app.scopes import ScopeCatalog
from app.server import SERVER_NAME, build_server
from app.snapstart import DynamoTable, SnapStartHooks, register
from app.snapstart.priming import priming_credential
from app.tasks.config import TaskSettings
from app.tasks.execution import TaskRunMiddleware
from app.tasks.extension import in_task
from app.tasks.factory import TaskRuntime, build_task_runtime, make_lambda_client
from app.tasks.port import TaskStore
from app.tasks.worker import LambdaTaskWorker
from app.transport.asgi import UnknownToolGuard, create_asgi_app, protocol_guards
from app.transport.config import Settings
from app.transport.lambda_entry import lambda_adapter, settle_heap
from app.transport.mistakes import ClientMistakeGuard
from app.transport.sdk import Middleware, OtelMiddleware, installed, lowlevel_server, otel_middleware, set_middleware

logger = logging.getLogger(__name__)

#: The server middleware chain (`Server.middleware`), outermost first: what `server_chain` builds.
SERVER_MIDDLEWARE: tuple[type, ...] = (
    OtelMiddleware,  # SDK: one span per request, only with MCP_OTEL (a tracer provider is the team's)
    RequestObserver,  # times and logs everything the others do or refuse, refusals included
    RequestStateBoundary,  # SDK: unseals requestState coming in, seals it going out
    TaskRunMiddleware,  # a task's run: binds the task, so the guards below see its principal
    ScopeGuard,  # per-item scopes: refuses calls outside them, filters list results
    QuotaGuard,  # per-principal quotas (app.quotas): counts only calls the caller may make, before any runs
    UnknownToolGuard,  # tools/call of a name never registered: -32602 naming it
    ClientMistakeGuard,  # unknown prompts and completion refs, missing arguments: -32602
)


def server_chain(
    server: MCPServer[Any],
    settings: Settings,
    *,
    observer: RequestObserver,
    tasks: TaskRuntime | None,
    scope_guard: ScopeGuard,
    quota_guard: QuotaGuard | None,
) -> list[Middleware]:
    """The server middleware chain, outermost first (`SERVER_MIDDLEWARE`): the one place it is composed.

    Every MCP request, and every task run (the executor serves it through the
    same server), passes down this list to its handler. The SDK's own entries
    (the OpenTelemetry span, the requestState boundary when requestState is
    sealed) are taken from the server the SDK built; the rest are ours. Entries
    a configuration does not have (no tasks, quotas off, MCP_OTEL off) are left out.
    """
    core = lowlevel_server(server)
    declared = (
        otel_middleware(core) if settings.otel else None,
        observer,
        installed(core, RequestStateBoundary),
        tasks.run_middleware if tasks is not None else None,
        scope_guard,
        quota_guard,
        *protocol_guards(server),
    )
    return [entry for entry in declared if entry is not None]


#: Derivation label for item-cursor keys taken from the requestState key ring.
CURSOR_KEY_LABEL = b"mcp-lambda/items-cursor/v1"

#: Tools without side effects, safe to call while priming a SnapStart snapshot.
PRIMING_TOOL_CALLS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("echo", {"text": "snapstart"}),
    ("add", {"a": 2, "b": 3}),
)


@dataclass(frozen=True)
class LambdaBuild:
    """The Lambda handler and the SnapStart hooks built with it."""

    handler: ObservedHandler
    snapstart: SnapStartHooks
    observability: Observability


@dataclass(frozen=True)
class Product:
    """Everything built at start-up: configuration, the server with its middleware chain, the MCP app.

    Built whole by `build_product`. The entry points below only wrap it (access
    control, the Lambda adapter, the worker) and say where logs go; none of
    them changes the server.
    """

    settings: Settings
    auth: AuthSettings
    server: MCPServer[Any]
    #: Metrics, traces and the request observer (which heads the server chain), built with the server.
    observed: Observability
    #: The innermost layer: the Starlette app serving MCP, and the public routes beside it (no access control).
    app: ASGIApp
    #: Which scopes each tool, resource, template and prompt needs, declared while `server` was built.
    scopes: ScopeCatalog = field(default_factory=ScopeCatalog)
    sealing: Sealing | None = None
    dynamodb: DynamoTable | None = None
    #: Long-running tools (MCP Tasks): store, dispatcher, executor; the worker entry runs its tasks.
    tasks: TaskRuntime | None = None
    #: Where the app's logs go (tests); default stdout on Lambda, stderr elsewhere.
    log_stream: IO[str] | None = field(default=None, repr=False, compare=False)
    #: AWS clients built at their first use; SnapStart priming builds them before the snapshot.
    lazy_clients: tuple[LazyClient, ...] = ()
    #: Audit records of tool calls (written by the request observer) and task transitions.
    audit: AuditLog | None = None
    #: Per-principal quotas (app.quotas); suspended with the observers while SnapStart primes.
    quota_guard: QuotaGuard | None = None

    @property
    def observability(self) -> ObservabilitySettings:
        return self.observed.settings

    def asgi_app(self) -> ASGIApp:
        """The protected ASGI app (`make run`): plain-text logs on a terminal."""
        self.observed.configure_logging(stream=self.log_stream, terminal=True)
        return protect(self.app, self.settings, self.auth)

    def mcp_app(self) -> ASGIApp:
        """The innermost layer, unprotected: the Starlette app serving MCP and the public routes beside it."""
        return self.app

    def stdio_server(self) -> MCPServer[Any]:
        """The server for a stdio runner (`make stdio`): logs on stderr (stdout is the protocol)."""
        self.observed.configure_logging(stream=self.log_stream, terminal=True)
        return self.server

    def task_worker(self) -> LambdaTaskWorker:
        """The task worker's handler (`worker.handler`): this product's server and logs, one task run per event.

        Logs are formatted like the API function's (JSON with the correlation
        fields on Lambda); metrics and traces stay with the API function, whose
        invocations they describe (`build_product` leaves them out where TASKS_ROLE=worker).
        """
        runtime = self.tasks
        if runtime is None or runtime.executor is None or self.observed.metrics is not None:
            # Metrics on would pile up samples no invocation flushes (the worker has no ObservedHandler).
            raise ConfigurationError("the task worker function needs TASKS_ROLE=worker (the template sets it)")
        self.observed.configure_logging(stream=self.log_stream)
        return LambdaTaskWorker(runtime.executor, deadline_margin_s=runtime.settings.deadline_margin_s)

    def lambda_handler(self) -> ObservedHandler:
        """The protected, observed Lambda handler (`handler.handler`); registers the SnapStart hooks on Lambda."""
        build = self.lambda_build()
        if self.observability.on_lambda:
            register(build.snapstart)
        settle_heap()
        return build.handler

    def lambda_build(self) -> LambdaBuild:
        """The wrapper stack of the module docstring, and its SnapStart hooks (unregistered: tests call them)."""
        observability = self.observed
        observability.configure_logging(stream=self.log_stream)  # as at build: another entry point may have changed it
        authenticator = build_authenticator(self.auth, self.settings)
        protected = protect(self.app, self.settings, self.auth, authenticator=authenticator)
        handler = observability.wrap(lambda_adapter(protected, self.settings))

        def primed() -> None:
            handler.cold = True  # priming is not an invocation: the first real one is still the cold start

        hooks = SnapStartHooks(
            settings=self.settings,
            handler=handler,
            unprotected=lambda_adapter(self.app, self.settings),
            secret_caches=self._secret_caches(authenticator),
            ssm_provider=self._ssm_provider(),
            dynamodb=self.dynamodb,
            clients=self.lazy_clients,
            tool_calls=PRIMING_TOOL_CALLS,
            unobserved=self._priming,
            credential=lambda: priming_credential(authenticator.key_ring),
            after_priming=primed,
            function_name=self.observability.function_name or "snapstart",
        )
        return LambdaBuild(handler=handler, snapstart=hooks, observability=observability)

    @contextmanager
    def _priming(self) -> Iterator[None]:
        """SnapStart priming's requests are no caller's: not observed, audited or counted against a quota."""
        guard = self.quota_guard
        with self.observed.unobserved():
            if guard is not None:
                guard.suspended = True
            try:
                yield
            finally:
                if guard is not None:
                    guard.suspended = False

    def _secret_caches(self, authenticator: Authenticator) -> tuple[Any, ...]:
        """Every cache holding a secret or signing key: API key ring, JWKS, requestState ring."""
        sealing_ring = (self.sealing.ring,) if self.sealing is not None and self.sealing.ring is not None else ()
        return (*authenticator.secret_caches, *sealing_ring)

    def _ssm_provider(self) -> Any:
        if self.auth.api_keys_param or self.auth.request_state_key_param:
            return make_ssm_provider(self.auth.fetch_timeout_s)  # the one the caches use (cached per process)
        return None


def build_product(
    environ: Mapping[str, str] | None = None,
    *,
    log_stream: IO[str] | None = None,
    observability: ObservabilitySettings | None = None,
) -> Product:
    """Parse every setting once and build the product whole: server, middleware chain, MCP app.

    `observability` replaces the settings parsed from `environ` (tests observe a
    product as on Lambda without configuring the rest as on Lambda).
    """
    env = os.environ if environ is None else environ
    lambda_env = env_values.on_lambda(env)
    settings = Settings.from_env(env)
    auth = AuthSettings.from_env(env)
    parsed = observability or ObservabilitySettings.from_env(env)
    task_settings = TaskSettings.from_env(env)
    # Per-request metrics and traces describe the API function's invocations, not the worker's (which
    # flushes none); TasksFailed below is the worker's own and follows the parsed settings.
    observability = replace(parsed, metrics=False, tracing=False) if task_settings.is_worker else parsed
    # First: start-up lines are formatted like the rest (an entry point may redirect them, e.g. to a terminal).
    configure_logging(observability, stream=log_stream)
    sealing = build_sealing(auth, on_lambda=lambda_env, default_audience=SERVER_NAME)
    cursor_keys = sealing.derived_keys(CURSOR_KEY_LABEL) if sealing is not None else None
    item_settings = ItemStoreSettings.from_env(env)
    dynamodb: DynamoTable | None = None
    # AWS clients built at their first use, or by SnapStart priming: a cold start whose request
    # does not reach the item table or dispatch a task does not load their service models.
    clients: list[LazyClient] = []
    lambda_client: LazyClient | None = None
    if item_settings.backend == "dynamodb":
        assert item_settings.table_name is not None  # ItemStoreSettings guarantees it
        clients.append(LazyClient("dynamodb", make_dynamodb_client))
        dynamodb = DynamoTable(clients[-1], item_settings.table_name)
    store = build_item_store(item_settings, dynamodb_client=dynamodb.client if dynamodb else None)
    items = build_item_service(item_settings, store=store, cursor_keys=cursor_keys)
    catalog = ScopeCatalog()  # filled by the registrations in build_server, read after it
    audit = AuditLog(
        enabled=observability.audit_log,
        log_arguments=observability.audit_arguments,
        keys=sealing.derived_keys(AUDIT_KEY_LABEL) if sealing is not None else None,
        tool_scopes=lambda name: catalog.needs("tool", name),
        # Counted where a task fails, the worker included (which flushes no per-invocation metrics).
        failures=TaskFailureMetric(parsed.namespace, parsed.service) if parsed.metrics else None,
        in_task_run=in_task,
    )
    tasks: TaskRuntime | None = None
    if task_settings.runs_tasks:
        if task_settings.worker_function:  # built at the first dispatch (or by SnapStart priming)
            lambda_client = LazyClient("lambda", make_lambda_client)
            clients.append(lambda_client)
        tasks = build_task_runtime(
            task_settings,
            _task_store(item_settings, dynamodb),
            lambda_client=lambda_client,
            authorize_tool=catalog.require_tool,  # a task's tool scopes apply to its tasks/* calls
            on_change=audit.task_changed,
        )
    else:
        logger.warning("tasks are off: TASKS_WORKER_FUNCTION is not set (the template sets it)")
    server = build_server(request_state_security=sealing.security if sealing else None, item_service=items, tasks=tasks, catalog=catalog)
    # Per-item scopes were declared in `catalog` while the server was built: advertise and enforce them.
    auth = auth.with_declared_scopes(catalog.all_scopes())
    quotas = QuotaSettings.from_env(env)
    quota_guard = (
        build_quota_guard(quotas, item_settings, dynamodb_client=dynamodb.client if dynamodb else None, tasks=tasks)
        if quotas.enabled
        else None
    )
    observed = _observability(server, observability, audit)
    chain = server_chain(
        server,
        settings,
        observer=observed.middleware,
        tasks=tasks,
        scope_guard=ScopeGuard(catalog, Challenger.build(settings, auth)),
        quota_guard=quota_guard,
    )
    set_middleware(lowlevel_server(server), chain)
    app = create_asgi_app(server, settings, extra_routes=metadata_routes(settings, auth))  # finds the chain whole
    return Product(
        settings=settings, auth=auth, server=server, observed=observed, app=app, scopes=catalog, sealing=sealing,
        dynamodb=dynamodb, tasks=tasks, log_stream=log_stream, lazy_clients=tuple(clients), audit=audit,
        quota_guard=quota_guard,
    )  # fmt: skip


def _observability(server: MCPServer[Any], settings: ObservabilitySettings, audit: AuditLog) -> Observability:
    core = lowlevel_server(server)

    def known_tool(name: str) -> bool:
        return core.get_tool_input_schema is not None and core.get_tool_input_schema(name) is not None

    return Observability.build(
        settings,
        known_method=lambda method: method == "initialize" or core.get_request_handler(method) is not None,
        known_tool=known_tool,
        audit=audit,
    )


def _task_store(item_settings: ItemStoreSettings, dynamodb: DynamoTable | None) -> TaskStore:
    """Tasks live beside the items: the same DynamoDB table (own key prefix) or SQLite file."""
    if dynamodb is not None:
        from app.tasks.dynamo_store import DynamoTaskStore  # imports botocore

        return DynamoTaskStore(dynamodb.client, dynamodb.name)
    from app.tasks.sqlite_store import SqliteTaskStore  # here: a DynamoDB configuration never loads sqlite3

    return SqliteTaskStore(item_settings.sqlite_path)

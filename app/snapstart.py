"""SnapStart runtime hooks: prime before the snapshot, refresh after every restore.

Lambda SnapStart (python3.12+) snapshots the execution environment after
init and restores copies of it. What init leaves behind is shared by every
copy, so:

Before the snapshot (`before_snapshot`), everything a first request would
otherwise pay is done once, for all restores:

* requests through the real app: `initialize`, the list methods (every
  schema built and validated), `ping`, side-effect-free tool calls, and the
  2026-07-28 `server/discover` + `tools/call`. They enter *below* access
  control, so no credential is needed, none is fetched and none is left in
  memory; one more request through the full protected handler, without a
  credential, primes the refusal path (401). Nothing that writes is called.
* modules the first request imports lazily (anyio's asyncio backend, its
  worker threads for the secret fetch, ...);
* the DynamoDB client's first call (`DescribeTable`, read-only): botocore's
  lazy loaders, credentials, endpoint. Optional; a failure is logged, never raised.

Nothing of this is an invocation: no metrics, no X-Ray segment. Secret caches
are emptied last, so the snapshot holds no secret value.

After each restore (`after_restore`):

* the SSM-backed caches (API key ring, requestState keys, JWKS) are
  invalidated (the snapshot may be days old, and the monotonic clock their
  deadlines were computed with does not survive a restore) and fetched again
  right away, inside the restore phase, so the first request pays no fetch.
  A fetch that fails is retried by the first request, which refuses if it fails too.
* a few side-effect-free tool calls run below access control, so the first
  real request finds caches warm again.
* `random` is re-seeded: every copy would otherwise draw the same numbers.
  (`secrets`, `uuid4` and `os.urandom` read the kernel, which Lambda reseeds on
  restore: item ids and key material need nothing.)

Hooks never fire outside Lambda; tests call them directly.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final, Protocol

from mangum import Mangum
from starlette.types import ASGIApp

from app.transport.config import Settings
from app.transport.lambda_entry import LambdaHandler, StripStage

logger = logging.getLogger(__name__)

HANDSHAKE_VERSION: Final = "2025-11-25"
MODERN_VERSION: Final = "2026-07-28"
PRIMING_ID: Final = "snapstart-prime"
#: Rounds of tool calls through the protected path while priming (see `_prime_requests`).
PROTECTED_PRIMING_ROUNDS: Final = 8

#: Imported by the first request at the earliest; importing them here moves that into the snapshot.
LAZY_MODULES: Final = (
    "anyio._backends._asyncio",  # anyio's backend, loaded by the first anyio call in a task
    "anyio.to_thread",  # secret fetches run in a worker thread
    "concurrent.futures.thread",
    "botocore.retries.adaptive",  # the DynamoDB client's retry mode, loaded at its first call
    "botocore.retries.standard",
)


class Invalidatable(Protocol):
    def invalidate(self) -> None: ...

    def get(self, *, force: bool = False) -> Any: ...


@dataclass(frozen=True)
class DynamoTable:
    """The item table and the client built for it at start-up."""

    client: Any
    name: str


@dataclass
class PrimeReport:
    """What `before_snapshot` did (logged, and read by tests)."""

    requests: int = 0
    answered: int = 0
    refused_without_credential: bool = False
    #: Tool calls through the protected path with the throwaway priming key, and how many succeeded.
    authenticated: int = 0
    authenticated_answered: int = 0
    modules: list[str] = field(default_factory=list)
    describe_table: str = "skipped"


class _PrimingContext:
    """The parts of Lambda's context object the app reads."""

    aws_request_id = PRIMING_ID
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "snapstart")
    memory_limit_in_mb = 0
    invoked_function_arn = ""

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def unprotected_handler(app: ASGIApp, settings: Settings) -> LambdaHandler:
    """A Lambda handler over `app` *without* access control: for priming only, never exported."""
    with warnings.catch_warnings():
        # Same as app.lambda_entry: Mangum 0.22 asks for the event loop the deprecated way.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="mangum")
        warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)
        return Mangum(StripStage(app, settings.api_base_path), lifespan="off")


def _modern_meta() -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": PRIMING_ID, "version": "1"},
    }


def priming_requests(
    tool_calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(headers, JSON-RPC body) pairs: read-only methods, then the given tool calls, in both eras."""
    handshake = {"mcp-protocol-version": HANDSHAKE_VERSION}
    requests: list[tuple[dict[str, str], dict[str, Any]]] = [
        (
            handshake,
            {
                "method": "initialize",
                "params": {
                    "protocolVersion": HANDSHAKE_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": PRIMING_ID, "version": "1"},
                },
            },
        ),
        *(
            (handshake, {"method": method, "params": {}})
            for method in ("ping", "tools/list", "prompts/list", "resources/list", "resources/templates/list")
        ),
        *(
            (handshake, {"method": "tools/call", "params": {"name": name, "arguments": dict(args)}})
            for name, args in tool_calls
        ),
        (
            {"mcp-protocol-version": MODERN_VERSION, "mcp-method": "server/discover"},
            {"method": "server/discover", "params": {"_meta": _modern_meta()}},
        ),
        *(
            (
                {"mcp-protocol-version": MODERN_VERSION, "mcp-method": "tools/call", "mcp-name": name},
                {"method": "tools/call", "params": {"name": name, "arguments": dict(args), "_meta": _modern_meta()}},
            )
            for name, args in tool_calls
        ),
    ]
    return [(headers, {"jsonrpc": "2.0", "id": index, **body}) for index, (headers, body) in enumerate(requests, 1)]


def http_api_event(settings: Settings, headers: Mapping[str, str], body: Mapping[str, Any]) -> dict[str, Any]:
    """A synthetic API Gateway HTTP API (payload v2) POST to the MCP endpoint."""
    path = settings.api_base_path + settings.path
    host = settings.allowed_hosts[0] if settings.allowed_hosts else "snapstart.invalid"
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "application/json", "content-type": "application/json", "host": host, **headers},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": PRIMING_ID,
            "domainName": host,
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": PRIMING_ID,
            },
            "requestId": PRIMING_ID,
            "routeKey": f"POST {path}",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
        "body": json.dumps(body),
    }


def _answered(response: Mapping[str, Any]) -> bool:
    if response.get("statusCode") != 200:
        return False
    try:
        return "result" in json.loads(response.get("body") or "")
    except ValueError:
        return False


class SnapStartHooks:
    """The two hooks, over what the composition root built. Each method may be called any number of times."""

    def __init__(
        self,
        *,
        settings: Settings,
        handler: LambdaHandler,
        unprotected: LambdaHandler,
        secret_caches: Iterable[Invalidatable] = (),
        ssm_provider: Any = None,
        dynamodb: DynamoTable | None = None,
        describe_table: bool = True,
        tool_calls: Sequence[tuple[str, Mapping[str, Any]]] = (),
        unobserved: Callable[[], AbstractContextManager[Any]] = nullcontext,
        credential: Callable[[], AbstractContextManager[str | None]] = lambda: nullcontext(None),
        after_priming: Callable[[], None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._handler = handler
        self._unprotected = unprotected
        self._caches = tuple(secret_caches)
        self._ssm_provider = ssm_provider
        self._dynamodb = dynamodb
        self._describe_table = describe_table
        self._tool_calls = tuple(tool_calls)
        self._unobserved = unobserved
        self._credential = credential
        self._after_priming = after_priming
        self.primed: PrimeReport | None = None
        self.restores = 0

    # -- before the snapshot -------------------------------------------------

    def before_snapshot(self) -> PrimeReport:
        """Prime the app; leave no secret behind. Logs what failed, raises nothing."""
        report = PrimeReport()
        started = time.perf_counter()
        with self._unobserved():
            for stage in (self._prime_requests, self._prime_modules, self._prime_dynamodb):
                try:
                    stage(report)
                except Exception as exc:  # noqa: BLE001 - a failed stage costs the first request time, nothing else
                    logger.warning(
                        "snapstart priming failed", extra={"stage": stage.__name__, "error_type": type(exc).__name__}
                    )
        self._after_priming()
        self._forget_secrets()
        self.primed = report
        logger.info(
            "snapstart primed",
            extra={
                "requests": report.requests,
                "answered": report.answered,
                "refused_without_credential": report.refused_without_credential,
                "describe_table": report.describe_table,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return report

    def _prime_requests(self, report: PrimeReport) -> None:
        context = _PrimingContext()
        for headers, body in priming_requests(self._tool_calls):
            report.requests += 1
            response = self._unprotected(http_api_event(self._settings, headers, body), context)
            if _answered(response):
                report.answered += 1
            else:
                logger.warning(
                    "snapstart priming request not answered",
                    extra={"mcp_method": body["method"], "status": response.get("statusCode")},
                )
        # The full protected path, without a credential: it must be refused, and nothing is fetched for it.
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        response = self._handler(
            http_api_event(self._settings, {"mcp-protocol-version": HANDSHAKE_VERSION}, body), context
        )
        report.refused_without_credential = response.get("statusCode") == 401
        # The full path a real request takes (access control accepting a key, the
        # observed wrapper, the access log), several times over: CPython specializes
        # code after a few runs, and a path first run after the restore is ~3x slower.
        with self._credential() as key:
            if key is None:
                return
            authorization = {"authorization": f"Bearer {key}"}
            for _ in range(PROTECTED_PRIMING_ROUNDS):
                for headers, body in priming_requests(self._tool_calls):
                    if body["method"] != "tools/call":
                        continue
                    response = self._handler(http_api_event(self._settings, {**headers, **authorization}, body), context)
                    report.authenticated += 1
                    if _answered(response):
                        report.authenticated_answered += 1

    def _prime_modules(self, report: PrimeReport) -> None:
        for name in LAZY_MODULES:
            try:
                module: ModuleType = importlib.import_module(name)
            except ImportError:
                continue
            report.modules.append(module.__name__)

    def _prime_dynamodb(self, report: PrimeReport) -> None:
        if self._dynamodb is None or not self._describe_table:
            return
        try:
            self._dynamodb.client.describe_table(TableName=self._dynamodb.name)
        except Exception as exc:  # noqa: BLE001 - optional: the snapshot must not depend on it
            report.describe_table = type(exc).__name__
            logger.warning("snapstart DescribeTable failed", extra={"error_type": type(exc).__name__})
        else:
            report.describe_table = "ok"

    # -- after a restore -----------------------------------------------------

    def after_restore(self) -> None:
        """Re-seed `random`, forget cached secrets and fetch them afresh, here rather than on the first request."""
        random.seed(os.urandom(32))
        self._forget_secrets()
        refetched = self._refetch_secrets()
        self._rewarm()
        self.restores += 1
        logger.info("snapstart restored", extra={"caches_invalidated": len(self._caches), "caches_refetched": refetched})

    def _rewarm(self) -> None:
        """A few side-effect-free tool calls below access control, so the first real request
        does not pay for caches and memory the restore (and the refetch) left cold."""
        context = _PrimingContext()
        try:
            with self._unobserved():
                for headers, body in priming_requests(self._tool_calls):
                    if body["method"] == "tools/call":
                        self._unprotected(http_api_event(self._settings, headers, body), context)
        except Exception as exc:  # noqa: BLE001 - only the first request's latency is at stake
            logger.warning("snapstart re-warm failed", extra={"error_type": type(exc).__name__})

    def _refetch_secrets(self) -> int:
        """Fetch every secret now: the restore phase has its own time budget, the first request has a caller.

        A fetch that fails leaves its cache empty; the first request then tries
        again and, failing, refuses (503): never open, only slower.
        """
        fetched = 0
        for cache in self._caches:
            try:
                cache.get(force=True)
            except Exception as exc:  # noqa: BLE001 - the request path retries and fails closed
                logger.warning("snapstart secret refetch failed", extra={"error_type": type(exc).__name__})
            else:
                fetched += 1
        return fetched

    def _forget_secrets(self) -> None:
        for cache in self._caches:
            cache.invalidate()
        if self._ssm_provider is not None:
            # Powertools keeps its own copy of every value it fetched.
            self._ssm_provider.clear_cache()


def runtime_hooks() -> ModuleType | None:
    """The SnapStart hook registry: provided by python3.12+ Lambda runtimes, `snapshot-restore-py` elsewhere."""
    try:
        import snapshot_restore_py
    except ImportError:
        return None
    return snapshot_restore_py


def register(hooks: SnapStartHooks, registry: Any = None) -> bool:
    """Register both hooks; False when no registry exists (a runtime without SnapStart)."""
    registry = registry if registry is not None else runtime_hooks()
    if registry is None:
        return False
    registry.register_before_snapshot(hooks.before_snapshot)
    registry.register_after_restore(hooks.after_restore)
    return True

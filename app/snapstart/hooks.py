"""The two SnapStart hooks over what the composition root built (see `app.snapstart`)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from app.core.events import HANDSHAKE_VERSION, FakeLambdaContext, http_api_event
from app.snapstart.priming import LAZY_MODULES, PRIMING_ID, PROTECTED_PRIMING_ROUNDS, priming_requests
from app.transport.config import Settings
from app.transport.lambda_entry import LambdaHandler

logger = logging.getLogger(__name__)


def _context(function_name: str) -> FakeLambdaContext:
    """Priming is not an invocation; the app still reads a context (deadline, request id, function name)."""
    return FakeLambdaContext(10.0, function_name=function_name, request_id=PRIMING_ID)


def _event(settings: Settings, headers: Mapping[str, str], body: Mapping[str, Any]) -> dict[str, Any]:
    """A synthetic HTTP API POST to the MCP endpoint, on a Host the app accepts."""
    host = settings.allowed_hosts[0] if settings.allowed_hosts else "snapstart.invalid"
    return http_api_event(
        body, {"accept": "application/json", **headers}, path=settings.api_base_path + settings.path, host=host
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
    #: The services whose lazily built client priming built.
    clients: list[str] = field(default_factory=list)
    describe_table: str = "skipped"


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
        clients: Iterable[Any] = (),
        describe_table: bool = True,
        tool_calls: Sequence[tuple[str, Mapping[str, Any]]] = (),
        unobserved: Callable[[], AbstractContextManager[Any]] = nullcontext,
        credential: Callable[[], AbstractContextManager[str | None]] = lambda: nullcontext(None),
        after_priming: Callable[[], None] = lambda: None,
        function_name: str = "snapstart",
    ) -> None:
        self._settings = settings
        self._handler = handler
        self._unprotected = unprotected
        self._caches = tuple(secret_caches)
        self._ssm_provider = ssm_provider
        self._dynamodb = dynamodb
        #: Lazily built AWS clients (`app.core.aws_client.LazyClient`): built before the snapshot, not in a request.
        self._clients = tuple(clients)
        self._describe_table = describe_table
        self._tool_calls = tuple(tool_calls)
        self._unobserved = unobserved
        self._credential = credential
        self._after_priming = after_priming
        #: The function's name, so the ColdStart metric laid out while priming is the one requests print.
        self._function_name = function_name
        self.primed: PrimeReport | None = None
        self.restores = 0

    # -- before the snapshot -------------------------------------------------

    def before_snapshot(self) -> PrimeReport:
        """Prime the app; leave no secret behind. Logs what failed, raises nothing."""
        report = PrimeReport()
        started = time.perf_counter()
        with self._unobserved():
            for stage in (self._prime_clients, self._prime_requests, self._prime_modules, self._prime_dynamodb):
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
        context = _context(self._function_name)
        for headers, body in priming_requests(self._tool_calls):
            report.requests += 1
            response = self._unprotected(_event(self._settings, headers, body), context)
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
            _event(self._settings, {"mcp-protocol-version": HANDSHAKE_VERSION}, body), context
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
                    response = self._handler(_event(self._settings, {**headers, **authorization}, body), context)
                    report.authenticated += 1
                    if _answered(response):
                        report.authenticated_answered += 1

    def _prime_clients(self, report: PrimeReport) -> None:
        for client in self._clients:
            client.resolve()
            report.clients.append(client.service)

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
        context = _context(self._function_name)
        try:
            with self._unobserved():
                for headers, body in priming_requests(self._tool_calls):
                    if body["method"] == "tools/call":
                        self._unprotected(_event(self._settings, headers, body), context)
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



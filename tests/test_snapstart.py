"""SnapStart hooks on the Lambda configuration (SSM key rings and DynamoDB through moto).

Hooks never fire outside Lambda: the tests call them the way the runtime
would, before the snapshot and after each restore.
"""

from __future__ import annotations

import copy
import io
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import snapshot_restore_py
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from app.core.events import FakeLambdaContext
from app.auth.cache import RefreshingCache
from app.auth.keyring import digest_hex, generate_key
from app.auth.ssm import make_ssm_provider
from app.items.dynamo_store import table_definition
from app.main import LambdaBuild, build_product
from app.observability import reset_logging
from app.snapstart import SnapStartHooks, register, runtime_hooks

REGION = "us-east-1"
TABLE = "mcp-items"
KEYS_PARAM = "/mcp-lambda/api-keys"
SEALING_PARAM = "/mcp-lambda/request-state-key"
SEALING_SECRET = "sealing-secret-" + "s" * 40
EVENTS = Path(__file__).resolve().parent.parent / "events"


def FakeContext() -> FakeLambdaContext:  # noqa: N802 - reads like the class it stands for
    return FakeLambdaContext(20.0, function_name="McpFunction", request_id="req")


@dataclass
class LambdaEnv:
    build: LambdaBuild
    api_key: str
    logs: io.StringIO
    ddb: Any
    #: Parameter names of every GetParameter that reached (moto) SSM.
    ssm_calls: list[str] = field(default_factory=list)

    @property
    def hooks(self) -> SnapStartHooks:
        return self.build.snapstart

    def call(self, body: dict[str, Any] | None = None, *, key: str | None = None) -> dict[str, Any]:
        event = json.loads((EVENTS / "http-v2-tools-call.json").read_text())
        event["headers"]["authorization"] = f"Bearer {key or self.api_key}"
        if body is not None:
            event["body"] = json.dumps(body)
        return self.build.handler(copy.deepcopy(event), FakeContext())

    def items_in_table(self) -> int:
        return int(self.ddb.scan(TableName=TABLE, Select="COUNT")["Count"])


def lambda_environ() -> dict[str, str]:
    return {
        "AWS_LAMBDA_FUNCTION_NAME": "McpFunction",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "MCP_API_KEYS_PARAM": KEYS_PARAM,
        "MCP_REQUEST_STATE_KEY_PARAM": SEALING_PARAM,
        "ITEMS_BACKEND": "dynamodb",
        "ITEMS_TABLE_NAME": TABLE,
        "POWERTOOLS_SERVICE_NAME": "mcp-lambda",
        "POWERTOOLS_METRICS_NAMESPACE": "McpLambda",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    make_ssm_provider.cache_clear()
    parameters.clear_caches()
    with mock_aws():
        yield
    make_ssm_provider.cache_clear()
    parameters.clear_caches()
    reset_logging()


@pytest.fixture
def env(aws: None) -> LambdaEnv:
    ssm = boto3.client("ssm", region_name=REGION)
    key_id, api_key = generate_key()
    ring = {key_id: {"sha256": digest_hex(api_key), "name": "agent"}}
    ssm.put_parameter(Name=KEYS_PARAM, Value=json.dumps(ring), Type="SecureString")
    ssm.put_parameter(Name=SEALING_PARAM, Value=SEALING_SECRET, Type="SecureString")
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(**table_definition(TABLE))
    logs = io.StringIO()
    build = build_product(lambda_environ(), log_stream=logs).lambda_build()
    lambda_env = LambdaEnv(build=build, api_key=api_key, logs=logs, ddb=ddb)
    make_ssm_provider(3.0).client.meta.events.register(
        "before-parameter-build.ssm.GetParameter", lambda params, **_: lambda_env.ssm_calls.append(params["Name"])
    )
    return lambda_env


def caches(hooks: SnapStartHooks) -> tuple[RefreshingCache[Any], ...]:
    return hooks._caches  # type: ignore[return-value]  # the caches the composition root handed over


# -- registration -------------------------------------------------------------


def test_the_lambda_handler_registers_both_hooks(aws: None, env: LambdaEnv) -> None:
    before, after = list(snapshot_restore_py.get_before_snapshot()), list(snapshot_restore_py.get_after_restore())
    try:
        build_product(lambda_environ(), log_stream=io.StringIO()).lambda_handler()
        (added_before,) = [entry for entry in snapshot_restore_py.get_before_snapshot() if entry not in before]
        (added_after,) = [entry for entry in snapshot_restore_py.get_after_restore() if entry not in after]
    finally:
        snapshot_restore_py.get_before_snapshot()[:] = before
        snapshot_restore_py.get_after_restore()[:] = after
    func, args, kwargs = added_before
    assert func.__name__ == "before_snapshot" and isinstance(func.__self__, SnapStartHooks) and not args and not kwargs
    assert added_after[0].__name__ == "after_restore" and added_after[0].__self__ is func.__self__


def test_nothing_is_registered_off_lambda(tmp_path: Path) -> None:
    before = list(snapshot_restore_py.get_before_snapshot())
    build_product(
        {"MCP_DEV_API_KEY": "local-dev-key-for-events", "ITEMS_SQLITE_PATH": str(tmp_path / "i.sqlite3")}
    ).lambda_handler()
    assert snapshot_restore_py.get_before_snapshot() == before


def test_a_runtime_without_the_registry_registers_nothing(env: LambdaEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as on python3.11
    assert runtime_hooks() is None
    assert register(env.hooks) is False


# -- before the snapshot ------------------------------------------------------


def test_before_snapshot_primes_everything_without_credentials_or_writes(
    env: LambdaEnv, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(
        sys.modules, "anyio._backends._asyncio"
    )  # as in a fresh process: only a first request imports it
    report = env.hooks.before_snapshot()

    assert report.requests == 11 and report.answered == report.requests, report
    assert report.refused_without_credential is True
    assert report.authenticated > 0 and report.authenticated_answered == report.authenticated
    assert report.describe_table == "ok"
    assert "anyio._backends._asyncio" in sys.modules
    assert env.ssm_calls == []  # no secret fetched, so none can be in the snapshot
    assert all(cache.peek() is None for cache in caches(env.hooks))
    assert env.items_in_table() == 0  # nothing written
    assert capsys.readouterr().out == ""  # not invocations: no EMF, no ColdStart

    # The first real invocation is still the cold one.
    assert env.call()["statusCode"] == 200
    stdout = capsys.readouterr().out
    assert '"ColdStart":[1.0]' in stdout
    # The key ring, and the requestState ring the audit line's argument HMAC derives from (after a
    # restore, both are refetched by the restore hook instead: test_after_restore_...).
    assert sorted(env.ssm_calls) == sorted([KEYS_PARAM, SEALING_PARAM])


def test_aws_clients_are_built_at_their_first_use_or_by_priming_not_at_start_up(env: LambdaEnv) -> None:
    product = build_product({**lambda_environ(), "TASKS_WORKER_FUNCTION": "mcp-worker"}, log_stream=io.StringIO())
    build = product.lambda_build()
    clients = {client.service: client for client in product.lazy_clients}
    assert sorted(clients) == ["dynamodb", "lambda"]
    assert not any(client.built for client in clients.values())
    key_id, reader_key = generate_key()  # the fixture's key has no scope; items_list needs items:read
    ring = {key_id: {"sha256": digest_hex(reader_key), "name": "reader", "scopes": ["items:read"]}}
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=KEYS_PARAM, Value=json.dumps(ring), Type="SecureString", Overwrite=True
    )
    lazy = LambdaEnv(build=build, api_key=reader_key, logs=io.StringIO(), ddb=env.ddb)

    # A request that reaches no store builds nothing. (Every tools/call reaches the table: the
    # per-principal quotas of app.quotas are counted there.)
    listing = lazy.call({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    assert listing["statusCode"] == 200
    assert not any(client.built for client in clients.values())
    listed = lazy.call({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "items_list", "arguments": {}}})
    assert listed["statusCode"] == 200 and '"isError":false' in listed["body"].replace(" ", "")
    assert clients["dynamodb"].built and not clients["lambda"].built  # the store's first use built its client

    report = build.snapstart.before_snapshot()
    assert sorted(report.clients) == ["dynamodb", "lambda"] and all(client.built for client in clients.values())


def test_priming_failures_are_logged_never_raised(env: LambdaEnv) -> None:
    env.ddb.delete_table(TableName=TABLE)

    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    hooks = SnapStartHooks(
        settings=env.hooks._settings,
        handler=broken,
        unprotected=broken,
        dynamodb=env.hooks._dynamodb,
    )
    report = hooks.before_snapshot()  # does not raise
    assert report.answered == 0
    assert report.modules  # the other stages still ran
    assert report.describe_table == "ResourceNotFoundException"
    assert "snapstart priming failed" in env.logs.getvalue()
    assert "snapstart DescribeTable failed" in env.logs.getvalue()


def test_a_snapshot_holds_no_secret_even_if_init_fetched_one(env: LambdaEnv) -> None:
    assert env.call()["statusCode"] == 200  # the key ring is now cached
    assert any(cache.peek() is not None for cache in caches(env.hooks))
    env.hooks.before_snapshot()
    assert all(cache.peek() is None for cache in caches(env.hooks))


# -- after a restore ----------------------------------------------------------


def test_after_restore_the_next_request_refetches_the_secrets(env: LambdaEnv) -> None:
    env.hooks.before_snapshot()
    assert env.call()["statusCode"] == 200
    assert env.call()["statusCode"] == 200
    # Cached within their TTL: the key ring, and the requestState ring the first audited call
    # derives its argument-HMAC key from (app.observability.audit).
    assert sorted(env.ssm_calls) == sorted([KEYS_PARAM, SEALING_PARAM])

    env.hooks.after_restore()
    # Refetched inside the restore phase, not after the TTL and not on the first request.
    assert env.ssm_calls.count(KEYS_PARAM) == 2
    assert env.call()["statusCode"] == 200
    assert env.ssm_calls.count(KEYS_PARAM) == 2
    assert env.hooks.restores == 1


def test_after_restore_a_revoked_key_stops_working_at_once(env: LambdaEnv) -> None:
    assert env.call()["statusCode"] == 200
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=KEYS_PARAM, Value="{}", Type="SecureString", Overwrite=True
    )
    assert env.call()["statusCode"] == 200  # still within the TTL of the snapshot's ring
    env.hooks.after_restore()
    assert env.call()["statusCode"] == 403  # the key is no longer accepted


def test_after_restore_the_sealing_ring_is_refetched_at_once(env: LambdaEnv) -> None:
    ring = caches(env.hooks)[-1]
    ring.get()
    fetches = ring.fetches
    env.hooks.after_restore()
    assert ring.peek() is not None  # fetched again during the restore
    ring.get()
    assert ring.fetches == fetches + 1 and env.ssm_calls.count(SEALING_PARAM) == 2


def test_after_restore_a_failed_refetch_leaves_the_cache_empty_and_the_request_fails_closed(env: LambdaEnv) -> None:
    """SSM down during the restore: nothing stale is kept, and the first request refuses (503), never opens."""
    env.call()
    boto3.client("ssm", region_name=REGION).delete_parameter(Name=KEYS_PARAM)
    env.hooks.after_restore()
    assert caches(env.hooks)[0].peek() is None
    assert env.call()["statusCode"] == 503


def test_restored_copies_draw_different_random_numbers(env: LambdaEnv) -> None:
    random.seed(1234)
    snapshot = random.getstate()  # what every copy of the snapshot starts with
    env.hooks.after_restore()
    first = [random.random() for _ in range(4)]
    random.setstate(snapshot)
    env.hooks.after_restore()
    second = [random.random() for _ in range(4)]
    assert first != second


def test_no_secret_in_logs_or_metrics(env: LambdaEnv, capsys: pytest.CaptureFixture[str]) -> None:
    env.hooks.before_snapshot()
    env.call()
    env.call(key="mcp_unknown_" + "x" * 30)
    env.hooks.after_restore()
    env.call(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "items_add", "arguments": {"title": "t"}},
        }
    )
    output = env.logs.getvalue() + capsys.readouterr().out
    assert '"name":"app.access"' in output
    for secret in (env.api_key, SEALING_SECRET, "x" * 30):
        assert secret not in output


def test_the_priming_key_works_inside_the_block_only(env: LambdaEnv) -> None:
    """The throwaway key lets priming take the real protected path; it is refused once priming is over."""
    with env.hooks._credential() as key:  # noqa: SLF001 - the hook's own factory, as before_snapshot uses it
        assert key is not None and key.startswith("mcp_")
        assert env.call(key=key)["statusCode"] == 200
    assert env.call(key=key)["statusCode"] == 403
    assert env.call()["statusCode"] == 200  # the real ring is fetched again, untouched by the lent one

"""Least privilege, enforced (issue 16, item 3): every AWS call the real code makes is allowed by its role,
and the roles allow nothing the product must not do.

The roles come from the template as CloudFormation receives it (after the SAM transform:
`DynamoDBCrudPolicy` and the inline statements expanded), with the template's own
parameter defaults and stand-ins for the account's resource names.

Both functions' real code paths run against moto (in-process), as deployed: the API
function's handler fed HTTP API events with an API key from the SSM ring (item tools,
an MCP Task created and dispatched to the worker, `tasks/get`), and the worker's handler
fed the exact asynchronous event the API function sent. Every call botocore makes is
recorded with the resource it names, and each is evaluated with moto's own IAM policy
engine (`moto.iam.access_control.IAMPolicy`) against that role's policies.

Why the evaluation and not moto's request-time enforcement (`INITIAL_NO_AUTH_ACTION_COUNT`):
moto authorizes DynamoDB, SSM and Lambda requests against the resource "*" (only IAM,
STS and SQS name the resource, `moto/core/responses.py` `call_action`), so a role scoped
to ARNs, as ours are, would be refused every call, and a wildcard role allowed every one:
neither proves anything about resources. `test_moto_request_time_enforcement_ignores_resources`
shows this, so the day moto starts checking resources this test can be moved onto it.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber
from moto import mock_aws
from moto.iam.access_control import IAMPolicy, PermissionResult

from app.auth.keyring import digest_hex, generate_key
from app.core.events import FakeLambdaContext, http_api_event
from app.items.dynamo_store import TTL_ATTRIBUTE, table_definition
from app.main import build_product
from app.observability import reset_logging

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = "mcp-lambda-ItemsTable-EXAMPLE"
WORKER = "mcp-lambda-TaskWorkerFunction-EXAMPLE"
WORKER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{WORKER}"
TASKS = "io.modelcontextprotocol/tasks"


# --- the roles, from the transformed template -----------------------------------------------------


def resolve(node: Any, template: dict[str, Any]) -> Any:
    """Intrinsics with this test's stand-ins: parameters at their defaults, conditions false, names as deployed."""
    refs = {
        "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "ItemsTable": TABLE,
        **{name: p.get("Default") for name, p in template["Parameters"].items()},
    }  # fmt: skip
    if isinstance(node, list):
        return [r for r in (resolve(n, template) for n in node) if r is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": "AWS::NoValue"}:
        return _NO_VALUE
    if set(node) == {"Ref"}:
        return refs[node["Ref"]]
    if set(node) == {"Fn::GetAtt"}:
        assert node["Fn::GetAtt"] == ["TaskWorkerFunction", "Arn"], node
        return WORKER_ARN
    if set(node) == {"Fn::If"}:
        condition, _if_true, if_false = node["Fn::If"]
        assert condition in ("HasSsmKmsKey",), condition  # the defaults: the AWS managed aws/ssm key
        return resolve(if_false, template)
    if set(node) == {"Fn::Sub"}:
        sub = node["Fn::Sub"]
        text, names = (sub, {}) if isinstance(sub, str) else (sub[0], {k: resolve(v, template) for k, v in sub[1].items()})
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names.get(m.group(1), refs.get(m.group(1)))), text)
    return {key: resolve(value, template) for key, value in node.items()}


_NO_VALUE = object()


def role_policies(template: dict[str, Any], role: str) -> list[IAMPolicy]:
    properties = template["Resources"][role]["Properties"]
    documents = [resolve(p, template) for p in properties["Policies"]]
    return [IAMPolicy(json.dumps(doc["PolicyDocument"])) for doc in documents if doc is not _NO_VALUE]


def allowed(policies: list[IAMPolicy], action: str, resource: str) -> bool:
    """IAM's rule: some statement allows it and none denies it (the managed log/X-Ray policies grant neither)."""
    results = [policy.is_action_permitted(action, resource) for policy in policies]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


# --- the calls the real code makes ----------------------------------------------------------------

#: DynamoDB checks a transaction against the action of each of its items (AWS: "TransactWriteItems …
#: IAM checks permissions for each action"), there is no dynamodb:TransactWriteItems permission.
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def permissions(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs one API call needs."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                (f"dynamodb:{_TRANSACT[kind]}", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{body['TableName']}")
                for item in params["TransactItems"] for kind, body in item.items()
            ]  # fmt: skip
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{params['TableName']}"
        return [(f"dynamodb:{operation}", table + (f"/index/{params['IndexName']}" if "IndexName" in params else ""))]
    if service == "ssm":
        assert operation == "GetParameter", operation
        return [("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{params['Name']}")]
    if service == "lambda":
        assert operation == "Invoke", operation
        name = params["FunctionName"]
        return [("lambda:InvokeFunction", name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")]
    raise AssertionError(f"an AWS call nobody planned for: {service} {operation}")


class CallRecorder:
    """Every API call any botocore client in the process makes, as (service, operation, params)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __enter__(self) -> CallRecorder:
        self._original = BaseClient._make_api_call
        recorder = self

        def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            recorder.calls.append((client.meta.service_model.service_name, operation, dict(params)))
            return recorder._original(client, operation, params)

        BaseClient._make_api_call = recording  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        BaseClient._make_api_call = self._original  # type: ignore[method-assign]

    def needed(self) -> set[tuple[str, str]]:
        return {pair for service, operation, params in self.calls for pair in permissions(service, operation, params)}


# --- the deployment, on moto ----------------------------------------------------------------------


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, transformed: dict[str, Any]) -> Iterator[dict[str, str]]:
    """moto with the template's SSM parameters and table; the environment both functions get from the template."""
    params = transformed["Parameters"]
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                        "AWS_REGION": REGION}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        key_id, key = generate_key()
        ring = {key_id: {"sha256": digest_hex(key), "name": "iam-test"}}
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name=params["ApiKeysParameterName"]["Default"], Value=json.dumps(ring), Type="SecureString")
        ssm.put_parameter(Name=params["RequestStateKeyParameterName"]["Default"], Value="k" * 64, Type="SecureString")
        ssm.put_parameter(Name="/someone-else/secret", Value="x", Type="SecureString")
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(**table_definition(TABLE))
        ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
        base = {
            "AWS_LAMBDA_FUNCTION_NAME": "mcp-lambda-McpFunction", "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
            "MCP_AUTH_MODE": "api_key",
            "MCP_API_KEYS_PARAM": params["ApiKeysParameterName"]["Default"],
            "MCP_REQUEST_STATE_KEY_PARAM": params["RequestStateKeyParameterName"]["Default"],
            "ITEMS_BACKEND": "dynamodb", "ITEMS_TABLE_NAME": TABLE,
        }  # fmt: skip
        api_env = {**base, "TASKS_WORKER_FUNCTION": WORKER, "MCP_API_KEY": key}
        yield api_env
    reset_logging()


def _post(handler: Any, key: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = http_api_event(body, headers={"authorization": f"Bearer {key}", **(headers or {})})
    response = handler(event, FakeLambdaContext(20.0))
    assert response["statusCode"] in (200, 202), response
    return json.loads(response["body"]) if response.get("body") else {}


def _tool(handler: Any, key: str, name: str, arguments: dict[str, Any], rpc_id: int) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": rpc_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    answer = _post(handler, key, body, {"mcp-protocol-version": "2025-11-25"})
    assert "result" in answer and not answer["result"].get("isError"), answer
    return answer["result"]


def test_every_call_of_both_functions_is_allowed_and_nothing_more(
    deployed: dict[str, str], transformed: dict[str, Any]
) -> None:
    api_role = role_policies(transformed, "McpFunctionRole")
    worker_role = role_policies(transformed, "TaskWorkerFunctionRole")
    key = deployed.pop("MCP_API_KEY")
    worker_env = {k: v for k, v in deployed.items() if k != "TASKS_WORKER_FUNCTION"}
    # As the template sets it: the worker gets the ring's NAME too (same config parser), never reads it.
    worker_env.update({"AWS_LAMBDA_FUNCTION_NAME": WORKER, "TASKS_ROLE": "worker"})
    invoked: list[dict[str, Any]] = []

    # --- the API function: the item tools, a task created, dispatched and polled ---
    with CallRecorder() as api_calls:
        product = build_product(deployed, log_stream=io.StringIO())
        handler = product.lambda_build().handler
        # moto has no worker function to run: the real client's invoke is answered as Lambda answers an
        # asynchronous one (202), and its request kept so the worker below gets that exact event.
        lambda_client = product.tasks.dispatcher._client.resolve()  # type: ignore[union-attr]  # noqa: SLF001
        stub = Stubber(lambda_client)
        stub.add_response("invoke", {"StatusCode": 202})
        lambda_client.meta.events.register("before-parameter-build.lambda.Invoke", lambda params, **_: invoked.append(dict(params)))
        stub.activate()
        added = _tool(handler, key, "items_add", {"title": "audit me", "idempotency_key": uuid.uuid4().hex}, 1)
        item = added["structuredContent"]["item"]
        _tool(handler, key, "items_get", {"id": item["id"]}, 2)
        _tool(handler, key, "items_update", {"id": item["id"], "expected_version": 1, "body": "b"}, 3)
        _tool(handler, key, "items_search", {"text": "audit"}, 4)
        _tool(handler, key, "items_list", {"limit": 1}, 5)
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS: {}}}}  # fmt: skip
        modern = {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "items_export"}
        created = _post(handler, key, {"jsonrpc": "2.0", "id": 6, "method": "tools/call",
                                       "params": {"name": "items_export", "arguments": {}, "_meta": meta}}, modern)  # fmt: skip
        task_id = created["result"]["taskId"]
        assert created["result"]["status"] == "working", created
    [event] = invoked
    assert event["FunctionName"] == WORKER

    # --- the worker: the exact asynchronous event ---
    with CallRecorder() as worker_calls:
        worker = build_product(worker_env, log_stream=io.StringIO()).task_worker()
        assert worker(json.loads(event["Payload"]), FakeLambdaContext(900.0)) == {"outcome": "completed"}

    with CallRecorder() as poll_calls:
        polled = _post(handler, key, {"jsonrpc": "2.0", "id": 7, "method": "tasks/get", "params": {"taskId": task_id, "_meta": meta}},
                       {**modern, "mcp-method": "tasks/get", "mcp-name": task_id})  # fmt: skip
        assert polled["result"]["status"] == "completed", polled
        _tool(handler, key, "items_delete", {"id": item["id"], "expected_version": 2}, 8)

    api_needed = api_calls.needed() | poll_calls.needed()
    worker_needed = worker_calls.needed()
    # The calls really happened: the test is not vacuous.
    api_actions = {action for action, _ in api_needed}
    assert {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem",
            "ssm:GetParameter", "lambda:InvokeFunction"} <= api_actions, api_actions  # fmt: skip
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"} <= {a for a, _ in worker_needed}, worker_needed
    for action, resource in sorted(api_needed):
        assert allowed(api_role, action, resource), f"the API function's role refuses {action} on {resource}"
    for action, resource in sorted(worker_needed):
        assert allowed(worker_role, action, resource), f"the worker's role refuses {action} on {resource}"

    # --- and nothing more ---
    ring_arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{transformed['Parameters']['ApiKeysParameterName']['Default']}"
    assert ("ssm:GetParameter", ring_arn) in api_needed  # the API function reads the ring...
    assert not allowed(worker_role, "ssm:GetParameter", ring_arn)  # ...the worker may not
    assert not any(action == "ssm:GetParameter" and resource == ring_arn for action, resource in worker_needed)
    assert allowed(api_role, "lambda:InvokeFunction", WORKER_ARN)
    for other in (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:anything-else", f"{WORKER_ARN}-copy"):
        assert not allowed(api_role, "lambda:InvokeFunction", other)
    assert not allowed(worker_role, "lambda:InvokeFunction", WORKER_ARN)  # the worker starts no runs
    for role in (api_role, worker_role):
        assert not allowed(role, "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/someone-else/secret")
        assert not allowed(role, "dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/another-table")
        assert not allowed(role, "dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}")
        assert not allowed(role, "ssm:PutParameter", ring_arn)


def test_moto_request_time_enforcement_ignores_resources() -> None:
    """Why the evaluation above: with enforcement on, moto checks an SSM call against the resource "*"."""
    from moto.core import set_initial_no_auth_action_count

    @set_initial_no_auth_action_count(4)
    def probe() -> tuple[bool, bool]:
        iam = boto3.client("iam", region_name=REGION)
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name="/mine", Value="v", Type="String")
        user = iam.create_user(UserName="probe")["User"]["UserName"]
        arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mine"
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn}]}
        iam.put_user_policy(UserName=user, PolicyName="scoped", PolicyDocument=json.dumps(policy))
        creds = iam.create_access_key(UserName=user)["AccessKey"]
        scoped = boto3.client("ssm", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                              aws_secret_access_key=creds["SecretAccessKey"])  # fmt: skip
        try:
            scoped.get_parameter(Name="/mine")
            exact_arn_allowed = True
        except scoped.exceptions.ClientError:
            exact_arn_allowed = False
        return exact_arn_allowed, True

    with mock_aws():
        exact_arn_allowed, _ = probe()
    # Real IAM allows this call; moto refuses it, because it asks about "*" rather than the parameter's ARN.
    assert exact_arn_allowed is False

"""template.yaml: linters, and the properties the deployment relies on,
checked on the template CloudFormation actually receives (after the SAM transform)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import CFN_LINT, SAM, TEMPLATE, explain, run, transform

# --- linters -------------------------------------------------------------------


def test_sam_validate_lint(sam_tools: Path) -> None:
    proc = run([str(SAM), "validate", "--lint", "--template-file", str(TEMPLATE)])
    assert proc.returncode == 0, explain(proc)


def test_sam_validate_basic(sam_tools: Path) -> None:
    # A config env samconfig.toml does not define: its `lint = true` stays out.
    proc = run(
        [str(SAM), "validate", "--template-file", str(TEMPLATE), "--config-env", "validate-basic"],
        env={"AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert proc.returncode == 0, explain(proc)
    assert "is a valid SAM Template" in proc.stdout


def test_cfn_lint_is_the_pinned_version(sam_tools: Path) -> None:
    proc = run([str(CFN_LINT), "--version"])
    assert proc.stdout.split() == ["cfn-lint", "1.53.3"], explain(proc)


def test_cfn_lint_passes(sam_tools: Path) -> None:
    proc = run([str(CFN_LINT), str(TEMPLATE)])
    assert proc.returncode == 0, explain(proc)


@pytest.mark.parametrize(
    ("broken", "rule"),
    [("Runtime: python3.11", "E2530"), ("Runtime: python3.99", "E3030")],
    ids=["snapstart-on-3.11", "unknown-runtime"],
)
def test_cfn_lint_runs_the_sam_transform(sam_tools: Path, tmp_path: Path, broken: str, rule: str) -> None:
    """The pin matters: cfn-lint 1.54+ stopped transforming SAM templates and passes both."""
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "      Runtime: !Ref Runtime\n" in text
    bad = tmp_path / "template.yaml"
    bad.write_text(text.replace("      Runtime: !Ref Runtime\n", f"      {broken}\n"), encoding="utf-8")
    proc = run([str(CFN_LINT), str(bad)])
    assert proc.returncode != 0 and rule in proc.stdout, explain(proc)


# --- least privilege ---------------------------------------------------------------

#: The only managed policies allowed on the function's role, both added by SAM
#: itself and both AWS-owned. Their "*" resources are why they are named here
#: rather than tolerated in general:
#: - AWSLambdaBasicExecutionRole: logs:CreateLogGroup/CreateLogStream/PutLogEvents
#:   on "*" (SAM attaches it to every role it makes; the function logs to the
#:   template's own log group through LoggingConfig);
#: - AWSXrayWriteOnlyAccess: added for Tracing: Active; X-Ray's PutTraceSegments
#:   and PutTelemetryRecords have no resource-level permissions at all.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}


def branches(node: Any) -> Iterator[Any]:
    """Both outcomes of every Fn::If, AWS::NoValue dropped."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        for branch in node["Fn::If"][1:]:
            yield from branches(branch)
    elif node != {"Ref": "AWS::NoValue"}:
        yield node


def as_list(node: Any) -> list[Any]:
    return node if isinstance(node, list) else [node]


def render(resource: Any) -> str:
    """A resource ARN as a string, placeholders filled with concrete stand-ins."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        text, names = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
        return re.sub(
            r"\$\{([^}]+)\}",
            lambda m: PSEUDO.get(m.group(1), "EXAMPLE" if m.group(1) not in names else f"<{m.group(1)}>"),
            text,
        )
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return f"arn:aws:service:us-east-1:123456789012:{'.'.join(resource['Fn::GetAtt'])}"
    raise AssertionError(f"unexpected resource expression {resource!r}")


def is_wildcard(arn: str) -> bool:
    """True for "*" and for ARNs whose resource part names nothing in particular."""
    if arn.strip() == "*":
        return True
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return True
    return parts[5].strip() in ("", "*") or parts[5].startswith("*") or "*" in parts[:5]


def role_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                for document in branches(policy):
                    for statement in as_list(document["PolicyDocument"]["Statement"]):
                        yield logical_id, statement
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in as_list(resource["Properties"]["PolicyDocument"]["Statement"]):
                yield logical_id, statement


def test_function_role_is_the_only_role(transformed: dict[str, Any]) -> None:
    roles = [k for k, v in transformed["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    assert sorted(roles) == ["McpFunctionRole", "TaskWorkerFunctionRole"]


def test_only_the_api_function_may_invoke_the_task_worker(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    invokers = [
        (where, statement)
        for where, statement in role_statements(transformed)
        if "lambda:InvokeFunction" in as_list(statement["Action"])
    ]
    assert [where for where, _ in invokers] and all("McpFunctionRole" in str(where) for where, _ in invokers)
    assert all(render(r) == render({"Fn::GetAtt": ["TaskWorkerFunction", "Arn"]}) for _, s in invokers
               for r in as_list(s["Resource"]))
    # No resource-based permission opens the worker to any other principal.
    assert not [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Permission"
                and "TaskWorker" in str(v["Properties"].get("FunctionName"))]
    config = next(v for v in resources.values() if v["Type"] == "AWS::Lambda::EventInvokeConfig")
    assert config["Properties"]["MaximumRetryAttempts"] == 0
    assert config["Properties"]["MaximumEventAgeInSeconds"] in ({"Ref": "TaskDispatchTimeout"}, 300)


def test_no_inline_statement_grants_a_wildcard_resource(transformed: dict[str, Any]) -> None:
    statements = list(role_statements(transformed))
    assert statements, "no IAM statements found: the walk is broken"
    for where, statement in statements:
        assert "NotResource" not in statement and "NotAction" not in statement, (where, statement)
        assert statement["Effect"] == "Allow", (where, statement)
        assert "*" not in as_list(statement["Action"]), (where, statement)
        for resource in as_list(statement["Resource"]):
            arn = render(resource)
            assert not is_wildcard(arn), f"{where}: {statement['Action']} on {arn}"


def test_managed_policies_are_exactly_the_sam_defaults(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["McpFunctionRole"]["Properties"]
    assert set(role["ManagedPolicyArns"]) == ALLOWED_MANAGED_POLICIES


def test_dynamodb_access_is_the_items_table_only(transformed: dict[str, Any]) -> None:
    dynamo = [
        s for _, s in role_statements(transformed) if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
    ]
    assert dynamo
    for statement in dynamo:
        arns = {render(r) for r in as_list(statement["Resource"])}
        assert arns <= {
            "arn:aws:dynamodb:us-east-1:123456789012:table/<tableName>",
            "arn:aws:dynamodb:us-east-1:123456789012:table/<tableName>/index/*",
        }
        assert all(r["Fn::Sub"][1] == {"tableName": {"Ref": "ItemsTable"}} for r in as_list(statement["Resource"]))


def test_ssm_access_is_get_parameter_on_the_two_names(transformed: dict[str, Any]) -> None:
    ssm = [s for w, s in role_statements(transformed) if any(a.startswith("ssm:") for a in as_list(s["Action"]))
           and "McpFunctionRole" in str(w)]
    assert len(ssm) == 1
    assert as_list(ssm[0]["Action"]) == ["ssm:GetParameter"]
    # The task worker reads the requestState key only, never the API key ring.
    worker = [s for w, s in role_statements(transformed) if any(a.startswith("ssm:") for a in as_list(s["Action"]))
              and "TaskWorkerFunctionRole" in str(w)]
    assert [r["Fn::Sub"] for s in worker for r in s["Resource"]] == [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${RequestStateKeyParameterName}"
    ]
    # The parameter names carry their leading slash (AllowedPattern), hence "parameter${Name}".
    assert [r["Fn::Sub"] for r in ssm[0]["Resource"]] == [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ApiKeysParameterName}",
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${RequestStateKeyParameterName}",
    ]
    for name in ("ApiKeysParameterName", "RequestStateKeyParameterName"):
        parameter = transformed["Parameters"][name]
        assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])
        # A name is pasted into the ARN as is: it must not be able to widen it.
        for widening in ("/*", "/mcp-lambda/*", "mcp-lambda/api-keys", "/a b"):
            assert not re.fullmatch(parameter["AllowedPattern"], widening), widening


def test_kms_decrypt_only_with_a_customer_key(transformed: dict[str, Any]) -> None:
    policies = transformed["Resources"]["McpFunctionRole"]["Properties"]["Policies"]
    conditional = [p for p in policies if isinstance(p, dict) and "Fn::If" in p]
    assert len(conditional) == 1 and conditional[0]["Fn::If"][0] == "HasSsmKmsKey"
    assert conditional[0]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    kms = [s for w, s in role_statements(transformed) if "kms:Decrypt" in as_list(s["Action"])]
    assert len(kms) == 2  # only inside that Fn::If, once per function role (API and task worker)
    assert transformed["Parameters"]["SsmKmsKeyId"]["Default"] == ""


# --- the function, the alias, the API ---------------------------------------------


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_snapstart_on_published_versions_behind_the_live_alias(transformed: dict[str, Any]) -> None:
    function = transformed["Resources"]["McpFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    (alias,) = resources_of(transformed, "AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == "live"
    (version_id,) = resources_of(transformed, "AWS::Lambda::Version")
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def parameters_in(node: Any, names: set[str]) -> set[str]:
    """Template parameters a property tree refers to, by Ref or inside Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in names:
            found.add(node["Ref"])
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            found |= set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text)) & names
        for value in node.values():
            found |= parameters_in(value, names)
    elif isinstance(node, list):
        for value in node:
            found |= parameters_in(value, names)
    return found


def test_any_configuration_change_publishes_a_version(transformed: dict[str, Any]) -> None:
    """SAM hashes the template text, not parameter values, into the version's
    logical id: a parameter that reaches the function's configuration must also
    reach the version's Description (create-only, so a change publishes)."""
    names = set(transformed["Parameters"])
    function = transformed["Resources"]["McpFunction"]["Properties"]
    # The role has its own lifecycle; Runtime and Architecture change the built code.
    configured = parameters_in({k: v for k, v in function.items() if k not in ("Role", "Code")}, names)
    configured -= {"Runtime", "Architecture"}
    (version,) = resources_of(transformed, "AWS::Lambda::Version").values()
    described = parameters_in(version["Properties"]["Description"], names)
    assert configured, "found no parameters in the function: the walk is broken"
    assert configured <= described, f"not in the version description: {sorted(configured - described)}"


def test_runtime_is_python_312_or_later(transformed: dict[str, Any]) -> None:
    """SnapStart exists for Python 3.12+: every allowed runtime must qualify."""
    assert transformed["Resources"]["McpFunction"]["Properties"]["Runtime"] == {"Ref": "Runtime"}
    runtime = transformed["Parameters"]["Runtime"]
    for value in [runtime["Default"], *runtime["AllowedValues"]]:
        major, minor = map(int, value.removeprefix("python").split("."))
        assert (major, minor) >= (3, 12), value


def test_timeout_stays_under_api_gateway_29s(transformed: dict[str, Any]) -> None:
    assert transformed["Resources"]["McpFunction"]["Properties"]["Timeout"] == {"Ref": "Timeout"}
    timeout = transformed["Parameters"]["Timeout"]
    assert int(timeout["Default"]) < 29 and int(timeout["MaxValue"]) < 29


ROUTES = {
    ("/mcp", "post"),
    ("/mcp", "get"),
    ("/mcp", "delete"),
    ("/mcp", "options"),
    ("/.well-known/oauth-protected-resource", "get"),
    ("/.well-known/oauth-protected-resource/mcp", "get"),
    ("/health", "get"),
}


def test_every_route_invokes_the_alias(transformed: dict[str, Any]) -> None:
    body = transformed["Resources"]["HttpApi"]["Properties"]["Body"]
    routes = {(path, method) for path, ops in body["paths"].items() for method in ops}
    assert routes == ROUTES
    for path, method in ROUTES:
        integration = body["paths"][path][method]["x-amazon-apigateway-integration"]
        assert integration["payloadFormatVersion"] == "2.0"
        assert "${McpFunctionAliaslive}" in integration["uri"]["Fn::Sub"], (path, method)
        assert integration["timeoutInMillis"] <= 29000
    for permission in resources_of(transformed, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] == {"Ref": "McpFunctionAliaslive"}


def test_throttling_comes_from_parameters(transformed: dict[str, Any]) -> None:
    (stage,) = resources_of(transformed, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
    }


def test_cors_follows_allowed_origins(sam_tools: Path) -> None:
    origins = "https://app.example.com,http://localhost:3000"
    template = transform(f"AllowedOrigins={origins}")
    cors = template["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]
    condition, config, otherwise = cors["Fn::If"]
    assert condition == "HasAllowedOrigins" and otherwise == {"Ref": "AWS::NoValue"}
    assert config["allowOrigins"] == {"Fn::Split": [",", origins]}
    # Only what is served: GET and DELETE always answer 405 (issue 17, item 4).
    assert config["allowMethods"] == ["POST"]
    # Any request header: Mcp-Param-<Name> headers cannot be enumerated in advance.
    assert config["allowHeaders"] == ["*"]
    assert set(config["exposeHeaders"]) == {"mcp-protocol-version", "www-authenticate", "retry-after"}
    env = template["Resources"]["McpFunction"]["Properties"]["Environment"]["Variables"]
    assert env["MCP_ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}


def test_custom_domain_only_when_configured(transformed: dict[str, Any]) -> None:
    for logical_id, condition in (
        ("ApiDomainName", "HasCustomDomain"),
        ("ApiMapping", "HasCustomDomain"),
        ("ApiDnsRecord", "HasCustomDomainDns"),
    ):
        assert transformed["Resources"][logical_id]["Condition"] == condition
    assert transformed["Resources"]["ApiMapping"]["Properties"]["Stage"] == {"Ref": "HttpApiApiGatewayDefaultStage"}


def test_logs_go_to_the_template_log_group(transformed: dict[str, Any]) -> None:
    logging_config = transformed["Resources"]["McpFunction"]["Properties"]["LoggingConfig"]
    assert logging_config["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert logging_config["LogFormat"] == "JSON"
    group = transformed["Resources"]["FunctionLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_outputs(transformed: dict[str, Any]) -> None:
    outputs = transformed["Outputs"]
    assert outputs["McpUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/mcp"
    }
    assert outputs["ProtectedResourceMetadataUrl"]["Value"]["Fn::Sub"].endswith(
        "/.well-known/oauth-protected-resource/mcp"
    )
    assert outputs["ItemsTableName"]["Value"] == {"Ref": "ItemsTable"}
    assert outputs["FunctionAliasArn"]["Value"] == {"Ref": "McpFunctionAliaslive"}


# --- agreement with the application -----------------------------------------------


def test_items_table_matches_the_item_store(transformed: dict[str, Any]) -> None:
    from app.items.dynamo_store import TTL_ATTRIBUTE, table_definition

    expected = table_definition("ignored")
    table = transformed["Resources"]["ItemsTable"]
    properties = table["Properties"]
    assert properties["KeySchema"] == expected["KeySchema"]
    assert properties["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert properties["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_environment_names_are_ones_the_app_reads(transformed: dict[str, Any]) -> None:
    from app.auth.config import ENV_DOC as AUTH_ENV
    from app.transport.config import ENV_DOC as TRANSPORT_ENV
    from app.items.config import ENV_DOC as ITEMS_ENV
    from app.tasks.config import ENV_DOC as TASKS_ENV
    from app.quotas.config import ENV_DOC as QUOTAS_ENV

    known = set(TRANSPORT_ENV) | set(AUTH_ENV) | set(ITEMS_ENV) | set(TASKS_ENV) | set(QUOTAS_ENV)
    variables = transformed["Resources"]["McpFunction"]["Properties"]["Environment"]["Variables"]
    unknown = {name for name in variables if not name.startswith("POWERTOOLS_")} - known
    assert not unknown, f"the template sets variables no ENV_DOC describes: {sorted(unknown)}"
    assert variables["ITEMS_BACKEND"] == "dynamodb"
    assert variables["ITEMS_TABLE_NAME"] == {"Ref": "ItemsTable"}


# --- operating it: alarms, dashboard, the worker's bound (issue 16) ---------------------------

#: alarm -> (namespace, metric names it watches, the function/table/API it watches)
ALARMS = {
    "ApiServerErrorRateAlarm": ("AWS/ApiGateway", {"5xx", "Count"}, "HttpApi"),
    "ApiFunctionErrorsAlarm": ("AWS/Lambda", {"Errors"}, "McpFunction"),
    "ApiFunctionThrottlesAlarm": ("AWS/Lambda", {"Throttles"}, "McpFunction"),
    "ApiFunctionDurationAlarm": ("AWS/Lambda", {"Duration"}, "McpFunction"),
    "WorkerErrorsAlarm": ("AWS/Lambda", {"Errors"}, "TaskWorkerFunction"),
    "WorkerThrottlesAlarm": ("AWS/Lambda", {"Throttles"}, "TaskWorkerFunction"),
    "WorkerDurationAlarm": ("AWS/Lambda", {"Duration"}, "TaskWorkerFunction"),
    "ItemsTableThrottlesAlarm": ("AWS/DynamoDB", {"ReadThrottleEvents", "WriteThrottleEvents"}, "ItemsTable"),
    "TasksFailedAlarm": ("McpLambda", {"TasksFailed"}, None),
    "QuotaRefusalsAlarm": ("McpLambda", {"QuotaRefusals"}, None),
}


def watched(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its single metric, or every MetricStat of its metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [{"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Dimensions": props["Dimensions"]}]
    return [query["MetricStat"]["Metric"] for query in props["Metrics"] if "MetricStat" in query]


@pytest.mark.parametrize("logical_id", sorted(ALARMS))
def test_every_alarm_watches_its_metric_and_notifies_the_topic(transformed: dict[str, Any], logical_id: str) -> None:
    namespace, names, target = ALARMS[logical_id]
    alarm = transformed["Resources"][logical_id]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    props = alarm["Properties"]
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}] and props["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert props["TreatMissingData"] == "notBreaching"  # no traffic is not an incident
    metrics = watched(alarm)
    assert {m["Namespace"] for m in metrics} == {namespace}
    assert {m["MetricName"] for m in metrics} == names
    if target is not None:
        assert all(d["Value"] == {"Ref": target} for m in metrics for d in m["Dimensions"]), metrics
    if "Metrics" in props:  # metric math: exactly one expression is the alarm's value
        assert [q["Id"] for q in props["Metrics"] if q.get("ReturnData", True)] == [props["Metrics"][0]["Id"]]


def test_custom_metric_alarms_use_the_dimensions_the_app_emits(transformed: dict[str, Any]) -> None:
    """EMF metrics are per dimension set: an alarm on another set would watch a metric that never exists."""
    api = transformed["Resources"]["McpFunction"]["Properties"]["Environment"]["Variables"]
    worker = transformed["Resources"]["TaskWorkerFunction"]["Properties"]["Environment"]["Variables"]
    services = {api["POWERTOOLS_SERVICE_NAME"], worker["POWERTOOLS_SERVICE_NAME"]}
    # TasksFailed: [service] (app.observability.audit); QuotaRefusals: [service, method] like Requests
    # (app.observability.metrics), summed over tools.
    for logical_id, names in (("TasksFailedAlarm", ["service"]), ("QuotaRefusalsAlarm", ["service", "method"])):
        for metric in watched(transformed["Resources"][logical_id]):
            assert [d["Name"] for d in metric["Dimensions"]] == names
            assert metric["Dimensions"][0]["Value"] in services
            assert names == ["service"] or metric["Dimensions"][1]["Value"] == "tools/call"
    assert api["POWERTOOLS_METRICS_NAMESPACE"] == worker["POWERTOOLS_METRICS_NAMESPACE"] == "McpLambda"


def test_duration_alarms_follow_the_timeouts(transformed: dict[str, Any]) -> None:
    for logical_id, parameter in (("ApiFunctionDurationAlarm", "Timeout"), ("WorkerDurationAlarm", "WorkerTimeout")):
        props = transformed["Resources"][logical_id]["Properties"]
        assert props["Threshold"] == 0.8
        assert props["Metrics"][0]["Expression"] == {"Fn::Sub": f"p99 / (${{{parameter}}} * 1000)"}
        assert props["Metrics"][1]["MetricStat"]["Stat"] == "p99"


def test_alarm_email_is_optional(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic" and "Condition" not in resources["AlarmTopic"]
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    assert transformed["Parameters"]["AlarmEmail"]["Default"] == ""


def test_one_dashboard_shows_every_alarm_and_metric(transformed: dict[str, Any]) -> None:
    import json

    dashboards = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert len(dashboards) == 1
    text, names = dashboards[0]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert names == {}
    referenced = set(re.findall(r"\$\{([^}]+)\}", text))
    for name in referenced:  # every placeholder names a resource, a resource attribute, a parameter or a pseudo
        base = name.split(".")[0]
        assert base in transformed["Resources"] or base in transformed["Parameters"] or name in PSEUDO, name
    body = json.loads(re.sub(r"\$\{([^}]+)\}", "X", text))  # valid JSON once CloudFormation fills it in
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == len(ALARMS)
    assert {f"{logical_id}.Arn" for logical_id in ALARMS} <= referenced
    shown = {cell for w in body["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"] for cell in row if isinstance(cell, str)}
    assert {"5xx", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "TasksFailed", "QuotaRefusals", "WriteThrottleEvents"} <= shown


def test_the_worker_has_a_reserved_concurrency_parameter(transformed: dict[str, Any]) -> None:
    """The cost bound of tasks: runs beyond it queue in Lambda (up to the dispatch window), never run."""
    worker = transformed["Resources"]["TaskWorkerFunction"]["Properties"]
    assert worker["ReservedConcurrentExecutions"] == {"Ref": "WorkerReservedConcurrency"}
    parameter = transformed["Parameters"]["WorkerReservedConcurrency"]
    assert parameter["MinValue"] >= 1  # 0 would stop every task run
    assert transformed["Resources"]["McpFunction"]["Properties"].get("ReservedConcurrentExecutions") is None

"""Observability configuration, parsed once from the environment.

Where the process runs decides the defaults: on Lambda (`AWS_LAMBDA_FUNCTION_NAME`
set) logs are Powertools JSON on stdout, metrics are EMF and tool calls get an
X-Ray subsegment; anywhere else logs are plain text and metrics and tracing
are off (no EMF blobs on a developer's terminal, no X-Ray daemon to talk to).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from app.core import env as env_values
from app.core.errors import ConfigurationError

#: Environment variables read here (README table source). POWERTOOLS_* are Powertools' own names.
ENV_DOC: dict[str, str] = {
    "MCP_ACCESS_LOG": "true (default) logs one INFO line per MCP request (method, tool, outcome, duration, principal).",
    "MCP_LOG_ARGUMENTS": "true adds tools/call arguments to the access log line and lets the SDK's "
    "'Tool x failed' lines quote the error (default false: they may hold user data).",
    "MCP_AUDIT_LOG": "true logs one audit line per tool call and task transition (logger app.audit, log_type "
    "audit): principal, tool, scopes, outcome, duration, an HMAC of the arguments (default: true on Lambda, false elsewhere).",
    "MCP_AUDIT_ARGUMENTS": "true adds the tool call's argument values to its audit line (default false: they may hold user data).",
    "POWERTOOLS_SERVICE_NAME": "Service name in every log line and metric (default mcp-lambda).",
    "POWERTOOLS_LOG_LEVEL": "Level of the app's logs (default INFO; AWS_LAMBDA_LOG_LEVEL is used when this is unset).",
    "POWERTOOLS_METRICS_NAMESPACE": "CloudWatch namespace of the EMF metrics (default McpLambda).",
    "POWERTOOLS_METRICS_DISABLED": "true turns EMF metrics off on Lambda (they are always off elsewhere).",
    "POWERTOOLS_DEV": "true (Powertools' development mode) also turns EMF metrics off unless POWERTOOLS_METRICS_DISABLED says otherwise.",
    "POWERTOOLS_TRACE_DISABLED": "true turns the per-tool-call X-Ray subsegments off on Lambda (always off elsewhere).",
}

@dataclass(frozen=True)
class ObservabilitySettings:
    """What to log, measure and trace. Immutable once built."""

    on_lambda: bool = False
    service: str = "mcp-lambda"
    namespace: str = "McpLambda"
    log_level: str = "INFO"
    access_log: bool = True
    log_arguments: bool = False
    #: Audit records (app.observability.audit): on by default on Lambda.
    audit_log: bool = False
    audit_arguments: bool = False
    metrics: bool = False
    tracing: bool = False
    #: Static Lambda facts for every log line (function name, version, memory).
    function_keys: tuple[tuple[str, str], ...] = ()

    @property
    def function_name(self) -> str | None:
        """The Lambda function's name (AWS_LAMBDA_FUNCTION_NAME), inside Lambda."""
        return dict(self.function_keys).get("function_name")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ObservabilitySettings:
        env = os.environ if environ is None else environ
        on_lambda = env_values.on_lambda(env)
        # Powertools' own rule: POWERTOOLS_DEV alone turns metrics off too.
        dev = env_values.flag(env, "POWERTOOLS_DEV", False)
        metrics_off = env_values.flag(env, "POWERTOOLS_METRICS_DISABLED", dev)
        level = (env.get("POWERTOOLS_LOG_LEVEL") or env.get("AWS_LAMBDA_LOG_LEVEL") or "INFO").strip().upper()
        if level not in ("DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigurationError(f"POWERTOOLS_LOG_LEVEL must be a log level name, got {level!r}")
        function_keys = tuple(
            (key, env[var])
            for key, var in (
                ("function_name", "AWS_LAMBDA_FUNCTION_NAME"),
                ("function_version", "AWS_LAMBDA_FUNCTION_VERSION"),
                ("function_memory_size", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            )
            if on_lambda and env.get(var)
        )
        return cls(
            on_lambda=on_lambda,
            service=(env.get("POWERTOOLS_SERVICE_NAME") or "mcp-lambda").strip(),
            namespace=(env.get("POWERTOOLS_METRICS_NAMESPACE") or "McpLambda").strip(),
            log_level="WARNING" if level == "WARN" else level,
            access_log=env_values.flag(env, "MCP_ACCESS_LOG", True),
            log_arguments=env_values.flag(env, "MCP_LOG_ARGUMENTS", False),
            audit_log=env_values.flag(env, "MCP_AUDIT_LOG", on_lambda),
            audit_arguments=env_values.flag(env, "MCP_AUDIT_ARGUMENTS", False),
            metrics=on_lambda and not metrics_off,
            tracing=on_lambda and not env_values.flag(env, "POWERTOOLS_TRACE_DISABLED", False),
            function_keys=function_keys,
        )

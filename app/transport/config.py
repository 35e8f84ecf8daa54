"""Transport configuration, parsed once from the environment.

Every knob the HTTP endpoint reads lives here, so a test builds a `Settings`
directly (or from a dict) instead of patching `os.environ`. Secrets are not
settings: only the *names* of SSM parameters appear here, never their values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from app.core import env as env_values
from app.core.errors import ConfigurationError

MIB = 1024 * 1024

#: Environment variables understood by `Settings.from_env`, with their meaning.
#: The README's configuration table is generated from the same facts.
ENV_DOC: dict[str, str] = {
    "MCP_PATH": "HTTP path of the MCP endpoint (default /mcp).",
    "MCP_MAX_BODY_BYTES": "Largest accepted request body in bytes (default 4 MiB); larger gets 413.",
    "MCP_ALLOWED_ORIGINS": "Comma-separated browser origins allowed to call; any other Origin gets 403.",
    "MCP_ALLOWED_HOSTS": "Comma-separated Host names accepted (DNS-rebinding guard); empty disables the check.",
    "MCP_REQUEST_TIMEOUT_S": "Deadline for one request when no Lambda context says otherwise (default 25).",
    "MCP_DEADLINE_MARGIN_S": "Kept free before Lambda's own timeout to answer with an error (default 1.0).",
    "MCP_API_BASE_PATH": "Path prefix to strip before routing (custom-domain base path mapping).",
    "MCP_OTEL": "true keeps the SDK's OpenTelemetry span per request (off: no tracer is configured on Lambda).",
}


@dataclass(frozen=True)
class Settings:
    """What the transport needs to serve one request. Immutable once built."""

    path: str = "/mcp"
    max_body_bytes: int = 4 * MIB
    allowed_origins: tuple[str, ...] = ()
    #: Host names the Host header may carry. Empty (the Lambda default) disables
    #: the check: API Gateway already routes only its own domains here.
    allowed_hosts: tuple[str, ...] = ()
    request_timeout_s: float = 25.0
    deadline_margin_s: float = 1.0
    api_base_path: str = ""
    #: Keep the SDK's per-request OpenTelemetry middleware. Off by default:
    #: with no tracer provider its spans are no-ops that cost ~15 µs a request.
    otel: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        path = env.get("MCP_PATH", "/mcp").strip() or "/mcp"
        if not path.startswith("/"):
            raise ConfigurationError(f"MCP_PATH must start with '/', got {path!r}")
        base = env.get("MCP_API_BASE_PATH", "").strip().rstrip("/")
        if base and not base.startswith("/"):
            base = "/" + base
        return cls(
            path=path,
            max_body_bytes=env_values.positive_int(env, "MCP_MAX_BODY_BYTES", 4 * MIB),
            allowed_origins=env_values.csv(env, "MCP_ALLOWED_ORIGINS"),
            allowed_hosts=env_values.csv(env, "MCP_ALLOWED_HOSTS"),
            request_timeout_s=env_values.positive_float(env, "MCP_REQUEST_TIMEOUT_S", 25.0),
            deadline_margin_s=env_values.positive_float(env, "MCP_DEADLINE_MARGIN_S", 1.0),
            api_base_path=base,
            otel=env_values.flag(env, "MCP_OTEL"),
        )

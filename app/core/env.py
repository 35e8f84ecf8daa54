"""Reading typed values from an environment mapping: one way, loud when malformed.

Every settings class (`app.transport.config`, `app.auth.config`, `app.items.config`,
`app.observability.config`) parses its variables with these, so a bad value
fails the same way everywhere: a `ConfigurationError` naming the variable,
at start-up, never a request.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import TypeVar

from app.core.errors import ConfigurationError

_N = TypeVar("_N", int, float)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


#: Set by every Lambda runtime; either one means "inside Lambda".
_LAMBDA_MARKERS = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV")


def on_lambda(env: Mapping[str, str]) -> bool:
    """Whether `env` is a Lambda execution environment (where local-only settings are refused)."""
    return any(env.get(marker) for marker in _LAMBDA_MARKERS)


# The two reads of the process environment outside the settings classes, kept here with them:
# neither is configuration passed down at start-up.


def process_on_lambda() -> bool:
    """Whether this process runs in Lambda, whatever settings it was handed: the last check before
    local-only settings built by hand (not parsed from the Lambda environ) could open the door there."""
    return on_lambda(os.environ)


def xray_trace_header() -> str | None:
    """The current invocation's X-Ray trace header: the Lambda runtime rewrites it per invocation."""
    return os.environ.get("_X_AMZN_TRACE_ID")


def text(env: Mapping[str, str], name: str) -> str | None:
    """The trimmed value, or None when unset or blank."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    return raw.strip()


def csv(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated, trimmed, blanks dropped."""
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _number(env: Mapping[str, str], name: str, parse: Callable[[str], _N], what: str) -> tuple[str, _N] | None:
    """The raw text and its parsed value, None when unset; a `ConfigurationError` naming `what` when unparsable."""
    raw = text(env, name)
    if raw is None:
        return None
    try:
        return raw, parse(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be {what}, got {raw!r}") from None


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    found = _number(env, name, int, "an integer")
    if found is None:
        return default
    raw, value = found
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {raw!r}")
    return value


def positive_float(env: Mapping[str, str], name: str, default: float, *, allow_zero: bool = False) -> float:
    found = _number(env, name, float, "a number")
    if found is None:
        return default
    raw, value = found
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"{name} must be a positive number, got {raw!r}")
    return value


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = (text(env, name) or "").lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")

"""Quota settings, parsed once from the environment (docs/operating.md ("Limits per caller") lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.core.errors import ConfigurationError

#: Environment variables understood by `QuotaSettings.from_env`, with their meaning (docs/operating.md ("Limits per caller")).
ENV_DOC: dict[str, str] = {
    "MCP_QUOTA_ENABLED": "`false` turns every quota off (default on).",
    "MCP_QUOTA_WINDOW_S": "Length of the fixed quota window, seconds (default 60).",
    "MCP_QUOTA_TOOL_CALLS": "Tool calls per principal per window (default 600).",
    "MCP_QUOTA_TASK_CREATIONS": "Task creations per principal per window (default 60).",
    "MCP_QUOTA_TOOL_OVERRIDES": "Per-tool limits per window, `tool=limit,...`, on top of the call limit (default `items_export=10`).",
    "MCP_QUOTA_WORKING_TASKS": "Tasks working (not terminal) at once per principal (default 5).",
}


#: The working-task slots live in one item per principal: a small cap keeps it small (and the check cheap).
MAX_WORKING_TASKS = 100


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ConfigurationError(f"{name} must be between {minimum} and {maximum}" if maximum else f"{name} must be at least {minimum}")
    return value


def _overrides(raw: str) -> dict[str, int]:
    """"items_export=10,other=3" -> {"items_export": 10, "other": 3}."""
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip().isdigit():
            raise ConfigurationError(f"MCP_QUOTA_TOOL_OVERRIDES: expected tool=limit, got {part!r}")
        result[name.strip()] = int(value)
    return result


@dataclass(frozen=True)
class QuotaSettings:
    enabled: bool = True
    window_s: int = 60
    #: Tool calls per principal per window (0: refuse every call).
    tool_calls: int = 600
    #: Task creations per principal per window.
    task_creations: int = 60
    #: Per-tool limits per window, counted separately from (and in addition to) `tool_calls`.
    tool_overrides: dict[str, int] = field(default_factory=lambda: {"items_export": 10})
    #: Tasks working (not terminal) at once per principal.
    working_tasks: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QuotaSettings:
        overrides = env.get("MCP_QUOTA_TOOL_OVERRIDES")
        return cls(
            enabled=env.get("MCP_QUOTA_ENABLED", "true").strip().lower() not in {"0", "false", "no", "off"},
            window_s=_int(env, "MCP_QUOTA_WINDOW_S", 60, minimum=1),
            tool_calls=_int(env, "MCP_QUOTA_TOOL_CALLS", 600),
            task_creations=_int(env, "MCP_QUOTA_TASK_CREATIONS", 60),
            tool_overrides=_overrides(overrides) if overrides is not None else {"items_export": 10},
            working_tasks=_int(env, "MCP_QUOTA_WORKING_TASKS", 5, maximum=MAX_WORKING_TASKS),
        )

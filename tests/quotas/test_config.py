"""Quota settings: parsed once, defaults, overrides, bad values refused at start-up with the variable's name;
every variable documented in docs/operating.md ("Limits per caller")."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ConfigurationError
from app.quotas.config import ENV_DOC, QuotaSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operating.md"


def test_defaults() -> None:
    settings = QuotaSettings.from_env({})
    assert (settings.enabled, settings.window_s, settings.tool_calls, settings.task_creations) == (True, 60, 600, 60)
    assert settings.tool_overrides == {"items_export": 10} and settings.working_tasks == 5


def test_values_and_overrides() -> None:
    settings = QuotaSettings.from_env(
        {
            "MCP_QUOTA_ENABLED": "false",
            "MCP_QUOTA_WINDOW_S": "3600",
            "MCP_QUOTA_TOOL_CALLS": "10",
            "MCP_QUOTA_TASK_CREATIONS": "2",
            "MCP_QUOTA_TOOL_OVERRIDES": " items_export=1 , add=4 ",
            "MCP_QUOTA_WORKING_TASKS": "0",
        }
    )
    assert settings == QuotaSettings(False, 3600, 10, 2, {"items_export": 1, "add": 4}, 0)
    assert QuotaSettings.from_env({"MCP_QUOTA_TOOL_OVERRIDES": ""}).tool_overrides == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MCP_QUOTA_WINDOW_S", "0"),
        ("MCP_QUOTA_TOOL_CALLS", "many"),
        ("MCP_QUOTA_TOOL_CALLS", "-1"),
        ("MCP_QUOTA_WORKING_TASKS", "101"),
        ("MCP_QUOTA_TOOL_OVERRIDES", "items_export"),
        ("MCP_QUOTA_TOOL_OVERRIDES", "items_export=x"),
    ],
)
def test_bad_values_are_refused_with_the_variable_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        QuotaSettings.from_env({name: value})


@pytest.mark.parametrize("name", sorted(ENV_DOC))
def test_every_setting_is_in_the_operator_docs(name: str) -> None:
    assert f"`{name}`" in DOCS.read_text(encoding="utf-8")

"""app.transport.config: settings parsed once, loud when malformed."""

from __future__ import annotations

import pytest

from app.transport.config import Settings
from app.core.errors import ConfigurationError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.path == "/mcp"
    assert settings.max_body_bytes == 4 * 1024 * 1024
    assert settings.allowed_origins == () and settings.allowed_hosts == ()
    assert settings.request_timeout_s == 25.0 and settings.deadline_margin_s == 1.0
    assert settings.otel is False


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "MCP_PATH": "/tools/mcp",
            "MCP_MAX_BODY_BYTES": "1024",
            "MCP_ALLOWED_ORIGINS": " https://a.example , https://b.example ,",
            "MCP_ALLOWED_HOSTS": "localhost",
            "MCP_REQUEST_TIMEOUT_S": "2.5",
            "MCP_API_BASE_PATH": "v1/",
            "MCP_OTEL": "true",
        }
    )
    assert settings.path == "/tools/mcp" and settings.max_body_bytes == 1024
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.api_base_path == "/v1" and settings.otel is True


def test_transport_settings_carry_no_product_field() -> None:
    from dataclasses import fields

    assert {f.name for f in fields(Settings)} == {
        "path", "max_body_bytes", "allowed_origins", "allowed_hosts", "request_timeout_s",
        "deadline_margin_s", "api_base_path", "otel",
    }


@pytest.mark.parametrize(
    "environ",
    [{"MCP_MAX_BODY_BYTES": "lots"}, {"MCP_MAX_BODY_BYTES": "-1"}, {"MCP_REQUEST_TIMEOUT_S": "0"}, {"MCP_PATH": "mcp"}],
    ids=["not-a-number", "negative", "zero-timeout", "relative-path"],
)
def test_malformed_values_fail_at_start(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    "environ",
    [{"MCP_OTEL": "maybe"}, {"MCP_REQUEST_TIMEOUT_S": "nan"}, {"MCP_DEADLINE_MARGIN_S": "inf"}],
    ids=["flag-not-boolean", "nan", "infinite"],
)
def test_app_env_refuses_values_that_are_not_what_they_claim(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(environ)
    assert next(iter(environ)) in str(raised.value)  # the message names the variable

"""AuthSettings.from_env: mode inference, fail-closed defaults, Lambda refusals."""

from __future__ import annotations

import logging

import pytest

from app.auth.config import AuthSettings
from app.auth.middleware import protect
from app.transport.config import Settings
from app.core.errors import ConfigurationError

LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "mcp-fn"}


def test_local_default_is_api_key_with_a_generated_dev_key_stable_per_process() -> None:
    first = AuthSettings.from_env({})
    second = AuthSettings.from_env({})
    assert first.mode == "api_key"
    assert first.dev_api_key_generated
    assert first.dev_api_key is not None and len(first.dev_api_key) >= 32
    assert first.dev_api_key == second.dev_api_key


def test_dev_key_never_in_repr() -> None:
    settings = AuthSettings.from_env({"MCP_DEV_API_KEY": "dev-key-0123456789abcdef"})
    assert "dev-key-0123456789abcdef" not in repr(settings)
    assert not settings.dev_api_key_generated


@pytest.mark.parametrize("marker", ["AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV"])
def test_lambda_with_nothing_configured_refuses_to_start(marker: str) -> None:
    with pytest.raises(ConfigurationError):
        AuthSettings.from_env({marker: "x"})


@pytest.mark.parametrize("marker", ["AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV"])
def test_auth_off_is_refused_inside_lambda(marker: str) -> None:
    with pytest.raises(ConfigurationError, match="none"):
        AuthSettings.from_env({marker: "x", "MCP_AUTH_MODE": "none", "MCP_API_KEYS_PARAM": "/p"})


def test_protect_refuses_auth_off_when_the_process_runs_in_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings built by hand (not from the Lambda environ) must still not open the door in Lambda.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mcp-fn")
    with pytest.raises(ConfigurationError):
        protect(lambda *a: None, Settings(), AuthSettings(mode="none"))


def test_auth_off_locally_is_logged_loudly(caplog: pytest.LogCaptureFixture) -> None:
    settings = AuthSettings.from_env({"MCP_AUTH_MODE": "none"})
    assert settings.mode == "none"
    with caplog.at_level(logging.WARNING, logger="app.auth"):
        protect(lambda *a: None, Settings(), settings)
    assert any(r.levelno == logging.WARNING and "DISABLED" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "env",
    [
        {"MCP_DEV_API_KEY": "dev-key-0123456789abcdef"},
        {"MCP_API_KEYS_FILE": "keys/ring.json"},
        {"MCP_AUTH_MODE": "api_key"},
    ],
)
def test_local_key_sources_are_refused_in_lambda(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        AuthSettings.from_env({**LAMBDA, **env})


def test_lambda_with_ssm_ring() -> None:
    settings = AuthSettings.from_env({**LAMBDA, "MCP_API_KEYS_PARAM": "/mcp/api-keys"})
    assert settings.mode == "api_key" and settings.in_lambda and settings.dev_api_key is None


def test_oauth_inference_and_defaults() -> None:
    settings = AuthSettings.from_env(
        {**LAMBDA, "MCP_OAUTH_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"}
    )
    assert settings.mode == "oauth"
    assert settings.oauth_jwks_url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"
    assert settings.oauth_authorization_servers == ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",)
    both = AuthSettings.from_env({**LAMBDA, "MCP_OAUTH_ISSUER": "https://idp.example.com", "MCP_API_KEYS_PARAM": "/k"})
    assert both.mode == "api_key+oauth" and both.api_keys_enabled and both.oauth_enabled


def test_audience_is_configured_never_guessed() -> None:
    settings = AuthSettings.from_env({"MCP_OAUTH_ISSUER": "https://idp.example.com"})
    with pytest.raises(ConfigurationError):
        settings.audiences_for("/mcp")
    derived = AuthSettings.from_env(
        {"MCP_OAUTH_ISSUER": "https://idp.example.com", "MCP_PUBLIC_URL": "https://x.io/v1/"}
    )
    assert derived.audiences_for("/mcp") == ("https://x.io/v1/mcp",)
    explicit = AuthSettings.from_env({"MCP_OAUTH_ISSUER": "https://idp.example.com", "MCP_OAUTH_AUDIENCE": "a, b"})
    assert explicit.audiences_for("/mcp") == ("a", "b")


@pytest.mark.parametrize(
    "env",
    [
        {"MCP_OAUTH_ISSUER": "http://idp.example.com"},  # plain http, not loopback
        {**LAMBDA, "MCP_OAUTH_ISSUER": "https://idp.example.com", "MCP_OAUTH_JWKS_URL": "http://127.0.0.1/jwks"},
        {"MCP_AUTH_MODE": "oauth"},  # no issuer
        {"MCP_AUTH_MODE": "sometimes"},
        {"MCP_SECRET_TTL_S": "soon"},
        {"MCP_SECRET_TTL_S": "-1"},
        {"MCP_OAUTH_AUDIENCE_CLAIM": "azp", "MCP_OAUTH_ISSUER": "https://idp.example.com"},
        {"MCP_OAUTH_TRUST_API_GATEWAY_AUTHORIZER": "maybe"},
        {"MCP_OAUTH_TRUST_API_GATEWAY_AUTHORIZER": "true"},  # needs an oauth mode
        {"MCP_DEV_API_KEY": "short"},
        {"MCP_API_KEYS_PARAM": "/k", "MCP_API_KEYS_FILE": "keys/ring.json"},
        {"MCP_DEV_API_KEY": "has spaces in it, sixteen+"},
    ],
)
def test_bad_configuration_is_refused_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        AuthSettings.from_env(env)


def test_loopback_http_jwks_allowed_locally() -> None:
    settings = AuthSettings.from_env(
        {"MCP_OAUTH_ISSUER": "https://idp.example.com", "MCP_OAUTH_JWKS_URL": "http://127.0.0.1:9/jwks"}
    )
    assert settings.oauth_jwks_url == "http://127.0.0.1:9/jwks"


def test_numbers_and_lists() -> None:
    settings = AuthSettings.from_env(
        {
            "MCP_API_KEYS_PARAM": "/k",
            "MCP_SECRET_TTL_S": "60",
            "MCP_SECRET_REFRESH_MIN_INTERVAL_S": "0",
            "MCP_REQUIRED_SCOPES": "a, b,,",
            "MCP_REQUEST_STATE_KEY_PARAM": "/rs",
        }
    )
    assert settings.secret_ttl_s == 60 and settings.refresh_min_interval_s == 0
    assert settings.required_scopes == ("a", "b")
    assert settings.request_state_key_param == "/rs" and settings.request_state_ttl_s == 600


def test_local_request_state_keys_are_parsed_and_stay_out_of_repr() -> None:
    auth = AuthSettings.from_env({"MCP_REQUEST_STATE_KEYS": "secret-key-1,secret-key-2"})
    assert auth.request_state_keys == (b"secret-key-1", b"secret-key-2")
    assert "secret-key" not in repr(auth)

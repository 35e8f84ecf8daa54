"""Fixtures for the access-control tests: clocks, moto SSM, signing keys, a loopback JWKS server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SSMProvider
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from moto import mock_aws

from app.auth.ssm import make_ssm_provider

from .support import REGION, FakeClock, JwksServer, SigningKeyPair, Ssm


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Powertools caches globally (and its cache key ignores `decrypt`): every case starts empty.
    parameters.clear_caches()
    make_ssm_provider.cache_clear()
    for var in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield
    parameters.clear_caches()
    make_ssm_provider.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    """Monotonic clock of the caches (TTL, refresh rate limit)."""
    return FakeClock()


@pytest.fixture
def wall() -> FakeClock:
    """Wall clock (key expiry, exp/nbf), starting now."""
    return FakeClock(time.time())


@pytest.fixture
def ssm() -> Iterator[Ssm]:
    with mock_aws():
        client = boto3.client("ssm", region_name=REGION)
        state = Ssm(client=client, provider=SSMProvider(boto3_client=client))
        client.meta.events.register(
            "before-parameter-build.ssm.GetParameter", lambda params, **_: state.calls.append(params["Name"])
        )
        yield state


@pytest.fixture(scope="session")
def rsa_key() -> SigningKeyPair:
    return SigningKeyPair("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_key() -> SigningKeyPair:
    return SigningKeyPair("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def attacker_key() -> SigningKeyPair:
    """Same kid as the real RSA key, different key material: a forger."""
    return SigningKeyPair("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def jwks_server(rsa_key: SigningKeyPair, ec_key: SigningKeyPair) -> Iterator[JwksServer]:
    server = JwksServer([rsa_key.public_jwk(), ec_key.public_jwk()])
    try:
        yield server
    finally:
        server.stop()

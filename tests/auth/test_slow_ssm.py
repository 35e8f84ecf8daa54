"""A blackholed SSM through the real SSM provider and the whole access-control layer (issue 8, item 9).

SSM's endpoint is a loopback server that accepts and never answers; the
provider is Powertools' `SSMProvider` over a real boto3 client with a short
timeout. Before: with a key ring loaded, every request waited for the
refresh (~9 s). Now the ring refreshes in the background and requests are
answered from the last good ring while the fetch hangs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from botocore.config import Config

from tests.fixtures.faults import FaultServer
from tests.fixtures.moto_server import serve_moto

from .support import MCP_BODY, REGION, FakeClock, auth_settings, bearer, build_app, client, new_key, ring_json

pytestmark = pytest.mark.anyio

PARAM = "/mcp/api-keys"


def _ssm_provider(endpoint: str, timeout: float) -> SSMProvider:
    ssm = boto3.client(
        "ssm",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "max_attempts": 1}),
    )
    return SSMProvider(boto3_client=ssm)


@pytest.fixture
def moto_ssm() -> Iterator[str]:
    """A moto server on 127.0.0.1: the SSM that answered before the outage."""
    with serve_moto() as endpoint:
        yield endpoint


class SwitchableSsm:
    """The provider the loader calls: healthy SSM first, the blackholed one from `current = ...` on."""

    def __init__(self, current: SSMProvider) -> None:
        self.current = current

    def get(self, name: str, **kwargs: Any) -> Any:
        return self.current.get(name, **kwargs)


async def test_slow_ssm_refresh_does_not_block_requests_with_a_loaded_ring(
    moto_ssm: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    healthy = _ssm_provider(moto_ssm, timeout=5)
    healthy.client.put_parameter(Name=PARAM, Value=ring_json((key, {})), Type="SecureString")
    switch = SwitchableSsm(healthy)
    app, recorder, authenticator = build_app(auth_settings(MCP_API_KEYS_PARAM=PARAM), provider=switch, clock=clock)
    ring = authenticator.key_ring
    caplog.set_level(logging.WARNING, logger="app.auth")
    with FaultServer("blackhole") as blackhole:
        async with client(app) as http:
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
            # SSM goes dark (a read timeout far longer than any request may wait), and the TTL runs out.
            switch.current = _ssm_provider(blackhole.url, timeout=60)
            clock.advance(301)
            responses = await asyncio.gather(
                *[http.post("/mcp", json=MCP_BODY, headers=bearer(key.key)) for _ in range(20)]
            )
            assert [r.status_code for r in responses] == [200] * 20
            # All 20 were answered while the one refresh is still stuck on the blackholed SSM.
            assert not ring.wait_for_refresh(timeout=0)
            assert blackhole.accepted == 1 and ring.fetches == 2
            # A key the ring does not know yet joins that refresh for at most force_wait, then is refused.
            assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key))).status_code == 401
            assert blackhole.accepted == 1 and ring.fetches == 2
    # The outage ends the fetch (connection dropped): the last good ring stays, logged once.
    assert ring.wait_for_refresh(timeout=30)
    async with client(app) as http:
        assert (await http.post("/mcp", json=MCP_BODY, headers=bearer(key.key))).status_code == 200
    assert len(recorder.calls) == 22
    assert [r.getMessage() for r in caplog.records if r.name == "app.auth.cache"] == [
        "secret refresh failed; keeping last good value"
    ]


async def test_cold_start_against_a_blackholed_ssm_shares_one_fetch_and_fails_closed(clock: FakeClock) -> None:
    with FaultServer("blackhole") as blackhole:
        app, recorder, authenticator = build_app(
            auth_settings(MCP_API_KEYS_PARAM=PARAM), provider=_ssm_provider(blackhole.url, timeout=1), clock=clock
        )
        async with client(app) as http:
            responses = await asyncio.gather(
                *[http.post("/mcp", json=MCP_BODY, headers=bearer(new_key().key)) for _ in range(5)]
            )
        # No ring yet: the callers shared one fetch, waited for its timeout, and were refused (503), not let in.
        assert [r.status_code for r in responses] == [503] * 5
        assert authenticator.key_ring.fetches == 1
        assert blackhole.accepted <= 2  # one fetch (botocore opens a second connection after a read timeout)
    assert recorder.calls == []

"""Malformed Authorization headers: always a clean 401, never a 500, never the app."""

from __future__ import annotations

import pytest

from app.core.errors import UNAUTHORIZED_CODE
from app.auth.authn import MAX_CREDENTIAL_BYTES, parse_bearer
from app.core.errors import InvalidCredentials, MissingCredentials

from .support import MCP_BODY, Ssm, auth_settings, build_app, client, new_key, ring_json

pytestmark = pytest.mark.anyio

PARAM = "/mcp/api-keys"


@pytest.fixture
async def setup(ssm: Ssm):  # type: ignore[no-untyped-def]
    key = new_key()
    ssm.put(PARAM, ring_json((key, {})))
    app, recorder, _ = build_app(auth_settings(MCP_API_KEYS_PARAM=PARAM), provider=ssm.provider)
    async with client(app) as http:
        yield http, recorder, key


def raw_headers(*values: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), *((b"authorization", v) for v in values)]


BAD_HEADERS = {
    "no scheme": lambda k: [k.encode()],
    "wrong scheme": lambda k: [b"Basic " + k.encode()],
    "token scheme only": lambda k: [b"Bearer"],
    "empty token": lambda k: [b"Bearer "],
    "blank": lambda k: [b""],
    "two headers, both valid": lambda k: [b"Bearer " + k.encode(), b"Bearer " + k.encode()],
    "two headers, one empty": lambda k: [b"Bearer " + k.encode(), b""],
    "comma-joined duplicates": lambda k: [b"Bearer " + k.encode() + b", Bearer " + k.encode()],
    "100 kB token": lambda k: [b"Bearer " + b"A" * 100_000],
    "100 kB key-shaped token": lambda k: [b"Bearer mcp_" + b"a" * 100_000],
    "non-ASCII latin-1": lambda k: [b"Bearer " + k.encode() + b"\xe9"],
    "non-ASCII utf-8": lambda k: [b"Bearer \xc3\xa9" + k.encode()],
    "control character": lambda k: [b"Bearer " + k.encode()[:10] + b"\x00" + k.encode()[10:]],
    "space inside": lambda k: [b"Bearer " + k.encode()[:10] + b" " + k.encode()[10:]],
}


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
async def test_malformed_authorization_is_refused_as_a_key_not_accepted(setup, case: str) -> None:  # type: ignore[no-untyped-def]
    """API-key mode: a presented credential that is refused is 403 without a challenge (issue 17, item 2)."""
    http, recorder, key = setup
    headers = raw_headers(*BAD_HEADERS[case](key.key))
    response = await http.post("/mcp", content=b"{}", headers=headers)
    assert response.status_code == 403
    assert "www-authenticate" not in response.headers
    assert "this API key was not accepted" in response.json()["error"]["message"]
    body = response.json()
    assert body["error"]["code"] == UNAUTHORIZED_CODE and body["id"] is None
    assert key.secret not in response.text
    assert recorder.calls == []


async def test_missing_header_is_401_without_error_code(setup) -> None:  # type: ignore[no-untyped-def]
    http, recorder, _ = setup
    response = await http.post("/mcp", json=MCP_BODY)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mcp"'
    assert recorder.calls == []


async def test_scheme_is_case_insensitive_and_whitespace_tolerated(setup) -> None:  # type: ignore[no-untyped-def]
    http, recorder, key = setup
    for value in (b"bearer " + key.key.encode(), b"BEARER  " + key.key.encode(), b" Bearer " + key.key.encode() + b" "):
        response = await http.post("/mcp", content=b"{}", headers=raw_headers(value))
        assert response.status_code == 200
    assert len(recorder.calls) == 3


async def test_other_paths_are_protected_too(setup) -> None:  # type: ignore[no-untyped-def]
    http, recorder, key = setup
    assert (await http.get("/anything-else")).status_code == 401
    assert (await http.get("/mcp")).status_code == 401
    assert (await http.get("/mcp", headers={"Authorization": f"Bearer {key.key}"})).status_code == 200
    assert len(recorder.calls) == 1


def test_parse_bearer_unit() -> None:
    assert parse_bearer(b"Bearer abc.def-ghi_jkl~+/==") == b"abc.def-ghi_jkl~+/=="
    with pytest.raises(MissingCredentials):
        parse_bearer(None)
    too_long = b"Bearer " + b"a" * (MAX_CREDENTIAL_BYTES + 1)
    for bad in (b"", b"Bearer", b"Bearer ", b"Token abc", b"abc", b"Bearer a=b", too_long):
        with pytest.raises(InvalidCredentials):
            parse_bearer(bad)

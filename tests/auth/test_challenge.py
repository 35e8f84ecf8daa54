"""How every refusal reads to a client (`app.auth.challenge.Challenger.answer`), one table for both modes:
API keys answer without an OAuth challenge where TypeScript-SDK clients would start OAuth on one; OAuth
modes keep RFC 6750."""

from __future__ import annotations

import pytest

from app.auth.challenge import WRONG_KEY, Challenger
from app.core.errors import AuthError, InsufficientScope, InvalidCredentials, MissingCredentials

SCOPE = {"type": "http", "scheme": "https", "path": "/mcp", "root_path": "", "headers": [(b"host", b"mcp.example.com")]}
API_KEYS = Challenger(oauth=False, mcp_path="/mcp")
OAUTH = Challenger(oauth=True, mcp_path="/mcp")
WRITE = InsufficientScope("tool items_add needs scope items:write", ("items:write",))
METADATA = b'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'


def _challenge(headers: tuple[tuple[bytes, bytes], ...]) -> bytes | None:
    return dict(headers).get(b"www-authenticate")


@pytest.mark.parametrize(
    ("exc", "presented", "per_item", "status", "message", "challenge"),
    [
        (MissingCredentials("no credential"), False, False, 401, None, b'Bearer realm="mcp"'),
        (InvalidCredentials("invalid API key"), True, False, 403, f"{WRONG_KEY} (invalid API key)", None),
        (WRITE, True, True, 200, WRITE.message, None),
        (WRITE, True, False, 403, WRITE.message, b'Bearer realm="mcp", error="insufficient_scope", scope="items:write"'),
    ],
    ids=["no-key", "wrong-key", "tool-scope", "server-wide-scope"],
)
def test_api_key_mode(
    exc: AuthError, presented: bool, per_item: bool, status: int, message: str | None, challenge: bytes | None
) -> None:
    answer = API_KEYS.answer(SCOPE, exc, presented=presented, per_item=per_item)
    assert (answer.status, answer.message, _challenge(answer.headers)) == (status, message or exc.message, challenge)
    assert "Unauthorized" not in answer.message or status == 401  # mcp-remote starts OAuth on that word


@pytest.mark.parametrize("per_item", [False, True])
def test_oauth_modes_keep_rfc_6750(per_item: bool) -> None:
    refused = OAUTH.answer(SCOPE, InvalidCredentials("token expired"), per_item=per_item)
    assert refused.status == 401 and _challenge(refused.headers) == (
        b"Bearer " + METADATA + b', error="invalid_token", error_description="token expired"'
    )
    stepped = OAUTH.answer(SCOPE, WRITE, per_item=per_item)
    assert stepped.status == 403 and _challenge(stepped.headers) == (
        b"Bearer " + METADATA + b', error="insufficient_scope", scope="items:write"'
    )

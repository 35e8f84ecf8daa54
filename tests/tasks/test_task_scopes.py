"""Per-tool scopes (issue 11) apply to a task's tasks/* calls, through the product served on 127.0.0.1.

`items_export` needs `items:read`. A task is owned by a principal, and a principal's credentials may carry
different scopes: API keys map one key to one principal (the key id), but OAuth access tokens of one subject
are one principal whatever their `scope` claim. So: a token of alice with `items:read` creates the task; a
token of the same alice *without* `items:read` finds it (ownership passes) and is refused 403 with the
`insufficient_scope` challenge naming `items:read` on tasks/get, tasks/cancel and tasks/update, and the
task is left running/untouched; another principal's tasks/get reads exactly like an unknown task (-32602);
a key without `items:read` cannot create the task at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.core.errors import FORBIDDEN_CODE
from tests.rpc import mcp_request, result_of
from tests.auth.support import ISSUER, RESOURCE, JwksServer, SigningKeyPair, claims, new_key, ring_json, sign
from tests.conftest import LiveServer, serve

MODERN = "2026-07-28"
TASKS = "io.modelcontextprotocol/tasks"
PRM_URL = "http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"


@pytest.fixture(scope="module")
def signing_key() -> SigningKeyPair:
    return SigningKeyPair("rsa-tasks", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def api_keys() -> dict[str, Any]:
    return {"reader": new_key(), "nothing": new_key()}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, signing_key: SigningKeyPair, api_keys: dict[str, Any]
) -> Iterator[LiveServer]:
    from app.main import build_product

    tmp: Path = tmp_path_factory.mktemp("task-scopes")
    ring = tmp / "ring.json"
    ring.write_text(
        ring_json(
            (api_keys["reader"], {"name": "reader", "scopes": ["items:read"]}),
            (api_keys["nothing"], {"name": "no scopes", "scopes": []}),
        ),
        encoding="utf-8",
    )
    jwks = JwksServer([signing_key.public_jwk()])
    env = {
        "MCP_API_KEYS_FILE": str(ring),
        "ITEMS_SQLITE_PATH": str(tmp / "items.sqlite3"),
        "MCP_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MCP_OAUTH_ISSUER": ISSUER,
        "MCP_OAUTH_JWKS_URL": jwks.url,
        "MCP_OAUTH_AUDIENCE": RESOURCE,
    }
    try:
        with serve(build_product(env).asgi_app()) as server:
            yield server
    finally:
        jwks.stop()


def rpc(url: str, credential: str, method: str, params: dict[str, Any], *, name: str | None = None) -> httpx.Response:
    """One 2026-07-28 request that declares the Tasks extension; `name` goes in Mcp-Name."""
    headers, body = mcp_request(
        credential, MODERN, method, params, request_id=9, capabilities={"extensions": {TASKS: {}}}, mcp_name=name
    )
    return httpx.post(url, json=body, headers=headers, timeout=30)


def assert_challenge_for_items_read(response: httpx.Response, port: int) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{PRM_URL.format(port=port)}", error="insufficient_scope", scope="items:read"'
    )
    error = response.json()["error"]
    assert error["code"] == FORBIDDEN_CODE and "items:read" in error["message"]
    assert error["data"] == {"requiredScopes": ["items:read"]}


def oauth(key: SigningKeyPair, sub: str, scope: str | None) -> str:
    return sign(key, claims(sub=sub, scope=scope))


def create_export(url: str, credential: str) -> dict[str, Any]:
    created = result_of(rpc(url, credential, "tools/call", {"name": "items_export", "arguments": {}}, name="items_export"))
    assert created["resultType"] == "task", created
    return created


def wait_terminal(url: str, credential: str, task_id: str) -> dict[str, Any]:
    # Polling, as a client does; the bound is a hang guard, not a timing assertion.
    for _ in range(300):
        task = result_of(rpc(url, credential, "tasks/get", {"taskId": task_id}, name=task_id))
        if task["status"] not in ("working", "input_required"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never finished: {task}")


def test_same_principal_without_items_read_is_refused_on_every_tasks_method_with_the_challenge(
    live: LiveServer, signing_key: SigningKeyPair
) -> None:
    reader = oauth(signing_key, "alice", "items:read")
    task_id = create_export(live.url, reader)["taskId"]
    assert wait_terminal(live.url, reader, task_id)["status"] == "completed"

    # The same subject, a token without items:read: the task is found (it is alice's), then refused.
    narrow = oauth(signing_key, "alice", "profile")
    assert_challenge_for_items_read(rpc(live.url, narrow, "tasks/get", {"taskId": task_id}, name=task_id), live.port)
    assert_challenge_for_items_read(rpc(live.url, narrow, "tasks/cancel", {"taskId": task_id}, name=task_id), live.port)
    assert_challenge_for_items_read(
        rpc(live.url, narrow, "tasks/update", {"taskId": task_id, "inputResponses": {}}, name=task_id), live.port
    )
    # The refusals changed nothing: with items:read again, the result is still there.
    again = result_of(rpc(live.url, oauth(signing_key, "alice", "items:read"), "tasks/get", {"taskId": task_id}, name=task_id))
    assert again["status"] == "completed"
    assert again["result"]["structuredContent"]["uri"] == "items://export.json"


def test_cancel_refused_for_lack_of_scope_leaves_a_running_task_running(
    live: LiveServer, signing_key: SigningKeyPair
) -> None:
    # A fresh subject and a cancel right after creation: the task may already have finished (the export of an
    # empty store is quick), so what is asserted is that the refused cancel did not make it `cancelled`.
    created = create_export(live.url, oauth(signing_key, "bob", "items:read"))
    task_id = created["taskId"]
    assert_challenge_for_items_read(
        rpc(live.url, oauth(signing_key, "bob", None), "tasks/cancel", {"taskId": task_id}, name=task_id), live.port
    )
    assert wait_terminal(live.url, oauth(signing_key, "bob", "items:read"), task_id)["status"] == "completed"


def test_another_principals_task_reads_as_unknown_even_with_items_read(
    live: LiveServer, signing_key: SigningKeyPair, api_keys: dict[str, Any]
) -> None:
    task_id = create_export(live.url, oauth(signing_key, "carol", "items:read"))["taskId"]
    unknown = rpc(live.url, api_keys["reader"].key, "tasks/get", {"taskId": "no-such-task"}, name="no-such-task")
    assert unknown.json()["error"] == {"code": -32602, "message": "Failed to retrieve task: task not found"}
    for credential in (api_keys["reader"].key, oauth(signing_key, "dave", "items:read")):
        for method, params in (("tasks/get", {}), ("tasks/cancel", {}), ("tasks/update", {"inputResponses": {}})):
            response = rpc(live.url, credential, method, {"taskId": task_id, **params}, name=task_id)
            # Exactly an unknown task: same HTTP status, same error, nothing that tells them apart.
            assert (response.status_code, response.json()["error"]) == (unknown.status_code, unknown.json()["error"]), method
    # And the owner's task was not touched by those cancels.
    assert wait_terminal(live.url, oauth(signing_key, "carol", "items:read"), task_id)["status"] == "completed"


def test_key_without_items_read_cannot_create_the_task_a_key_with_it_can(
    live: LiveServer, api_keys: dict[str, Any]
) -> None:
    response = rpc(live.url, api_keys["nothing"].key, "tools/call", {"name": "items_export", "arguments": {}}, name="items_export")
    assert_challenge_for_items_read(response, live.port)
    # The key with items:read creates it (the same call, the scope is the only difference).
    created = create_export(live.url, api_keys["reader"].key)
    assert created["status"] == "working" and created["pollIntervalMs"] > 0
    assert wait_terminal(live.url, api_keys["reader"].key, created["taskId"])["status"] == "completed"

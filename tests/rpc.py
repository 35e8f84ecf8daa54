"""Raw MCP requests over HTTP, built as a client builds them for either protocol era.

For tests that speak JSON-RPC to /mcp without an SDK client (scope checks, client mistakes):
the headers every request carries, and at 2026-07-28 the per-request `_meta` envelope plus the
Mcp-Method / Mcp-Name headers the spec requires beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.events import ACCEPT, MODERN_VERSION, modern_meta

#: Methods whose target (a tool or prompt name, a resource URI) travels in Mcp-Name at 2026-07-28.
NAMED_METHODS = ("tools/call", "prompts/get", "resources/read")


def mcp_request(
    credential: str,
    era: str,
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    request_id: int = 7,
    client_name: str = "mcp-lambda",
    capabilities: Mapping[str, Any] | None = None,
    mcp_name: str | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """(headers, JSON-RPC body) of one request at `era` with a bearer `credential`.

    At 2026-07-28 the `_meta` envelope replaces any the caller put in `params`, and Mcp-Name is sent only
    when the target is a string (a client mistake such as a numeric name gets no header, as a client would)."""
    body_params = dict(params or {})
    headers = {
        "authorization": f"Bearer {credential}",
        "accept": ACCEPT,
        "content-type": "application/json",
        "mcp-protocol-version": era,
    }
    if era == MODERN_VERSION:
        body_params["_meta"] = modern_meta(client_name, capabilities)
        headers["mcp-method"] = method
        name = body_params.get("uri") if method == "resources/read" else body_params.get("name")
        if mcp_name is not None:  # e.g. the task id of a tasks/* request
            headers["mcp-name"] = mcp_name
        elif method in NAMED_METHODS and isinstance(name, str):
            headers["mcp-name"] = name
    return headers, {"jsonrpc": "2.0", "id": request_id, "method": method, "params": body_params}


def result_of(response: Any) -> dict[str, Any]:
    """The JSON-RPC result of an HTTP 200 answer, failing the test on anything else."""
    assert response.status_code == 200, response.text
    message = response.json()
    assert "error" not in message, message
    return message["result"]

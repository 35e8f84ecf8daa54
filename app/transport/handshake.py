"""The handshake era (2024-11-05 .. 2025-11-25), served statelessly.

Every request is answered as if `initialize` had completed on this very
instance, because on Lambda the one that saw it may be gone. Notifications
and posted responses are acknowledged: there is no state for them to touch.
"""

from __future__ import annotations

from typing import Any, Final

from mcp_types import INVALID_REQUEST
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION

from app.transport import wire
from app.transport.exchange import Exchange, handshake_connection

#: The only revision with JSON-RPC batches; later ones removed them.
BATCH_VERSION: Final = "2025-03-26"


async def answer(ex: Exchange, decoded: Any, version: str) -> wire.Reply:
    if isinstance(decoded, list):
        return await _batch(ex, decoded, version)
    if not isinstance(decoded, dict):
        return wire.invalid_request(None, "Invalid request: body must be a JSON-RPC object")
    if wire.is_response(decoded):
        return wire.ACCEPTED  # it answers nothing we asked: statelessly, nothing waits for it
    problem = wire.request_shape_error(decoded)
    if problem is not None:
        return wire.invalid_request(wire.echoable_id(decoded), problem)
    if "id" not in decoded:
        return wire.ACCEPTED  # notifications carry no state a stateless server could keep
    response, emitted = await _serve(ex, decoded, version)
    return ex.deliver(response, emitted)


async def _serve(ex: Exchange, message: dict[str, Any], version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if message["method"] == "initialize":
        # No header yet: the version this exchange speaks is the one being negotiated.
        params = message.get("params")
        requested = params.get("protocolVersion") if isinstance(params, dict) else None
        version = requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
    return await ex.dispatch(
        message["id"], message["method"], message.get("params"), lambda channel: handshake_connection(channel, version)
    )


async def _batch(ex: Exchange, batch: list[Any], version: str) -> wire.Reply:
    if version != BATCH_VERSION:
        return wire.invalid_request(None, f"Invalid request: JSON-RPC batches are not supported at {version}")
    if not batch:
        return wire.invalid_request(None, "Invalid request: empty batch")
    responses: list[dict[str, Any]] = []
    emitted: list[dict[str, Any]] = []
    for item in batch:
        if not isinstance(item, dict):
            responses.append(wire.error_object(None, INVALID_REQUEST, "Invalid request: batch member is not an object"))
            continue
        if wire.is_response(item):
            continue
        problem = wire.request_shape_error(item)
        if problem is not None:
            responses.append(wire.error_object(wire.echoable_id(item), INVALID_REQUEST, problem))
            continue
        if "id" not in item:
            continue
        response, notes = await _serve(ex, item, version)
        responses.append(response)
        emitted.extend(notes)
    if not responses:
        return wire.ACCEPTED
    # A refused member (e.g. outside the caller's scopes) is a JSON-RPC error in
    # the array; the batch stays 200, because its other members ran and their
    # results must reach the client, and carries the refusal's challenge header
    # (RFC 9110 lets any response carry WWW-Authenticate) so a client can step up.
    if emitted and ex.sse_ok:
        return ex.with_refusal_headers(wire.sse_reply([*emitted, *responses]))
    return ex.with_refusal_headers(wire.json_reply(responses))

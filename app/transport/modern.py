"""The 2026-07-28 era: every request carries its own envelope; no handshake, no session.

The checks are the SDK's own (`mcp.shared.inbound`): header/body agreement,
supported versions, `Mcp-Param-*` headers. What is added here is only what a
stateless endpoint must answer for itself.
"""

from __future__ import annotations

from typing import Any, Final

from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
    unsupported_protocol_version_rejection,
    validate_mcp_param_headers,
    x_mcp_header_map,
)
from mcp_types import HEADER_MISMATCH, METHOD_NOT_FOUND, PROTOCOL_VERSION_META_KEY
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from app.transport import wire
from app.transport.exchange import Exchange, modern_connection
from app.transport.sdk import HeaderPairs

#: Never served: its response is a stream that outlives the request (Lambda buffers
#: whole responses) and is fed by an event bus no two instances share.
LISTEN: Final = "subscriptions/listen"


def has_envelope(message: Any) -> bool:
    """Whether a body claims the modern era by itself (`_meta` carries the protocol version)."""
    if not isinstance(message, dict) or message.get("method") == "initialize":
        return False
    params = message.get("params")
    return isinstance(params, dict) and isinstance(params.get("_meta"), dict) and PROTOCOL_VERSION_META_KEY in params["_meta"]


def _rejection(rejection: InboundLadderRejection, request_id: Any) -> wire.Reply:
    status = ERROR_CODE_HTTP_STATUS.get(rejection.code, 400)
    return wire.error_reply(status, request_id, rejection.code, rejection.message, rejection.data)


async def answer(ex: Exchange, decoded: Any, version: str | None) -> wire.Reply:
    if not isinstance(decoded, dict):
        return wire.invalid_request(None, "Invalid request: body must be a single JSON-RPC request object")
    if "id" not in decoded:
        if not isinstance(decoded.get("method"), str):
            return wire.invalid_request(None, "Invalid request: body must be a single JSON-RPC request object")
        rejection = unsupported_protocol_version_rejection(version or "")
        if rejection is not None:
            return _rejection(rejection, None)
        return wire.ACCEPTED  # this era defines no client-to-server notifications: acknowledged, dropped
    problem = wire.request_shape_error(decoded)
    if problem is not None:
        return wire.invalid_request(wire.echoable_id(decoded), problem)
    request_id = decoded["id"]
    # No header name repeats at all (the folded dict lost nothing): no routing header can either.
    duplicated = find_duplicated_routing_header(ex.pairs) if len(ex.pairs) != len(ex.headers) else None
    if duplicated is not None:
        return wire.error_reply(400, request_id, HEADER_MISMATCH, f"{duplicated} header appears more than once")
    if version is not None and version not in KNOWN_PROTOCOL_VERSIONS and not has_envelope(decoded):
        # Neither era's version: name every revision served, handshake ones included.
        unsupported = unsupported_protocol_version_rejection(version, KNOWN_PROTOCOL_VERSIONS)
        assert unsupported is not None
        return _rejection(unsupported, request_id)
    verdict = classify_inbound_request(decoded, headers=ex.headers)
    if isinstance(verdict, InboundLadderRejection):
        return _rejection(verdict, request_id)
    method: str = decoded["method"]
    params: dict[str, Any] | None = decoded.get("params")
    if method == "tools/call":
        mismatch = _param_header_rejection(ex, params or {})
        if mismatch is not None:
            return _rejection(mismatch, request_id)
    if method == LISTEN:
        return wire.error_reply(
            404,
            request_id,
            METHOD_NOT_FOUND,
            "subscriptions/listen is not served: this stateless endpoint answers every request with one "
            "complete response, so it cannot hold a stream open. Poll the list methods instead.",
        )
    response, emitted = await ex.dispatch(
        request_id,
        method,
        params,
        lambda _channel: modern_connection(verdict.protocol_version, verdict.client_info, verdict.client_capabilities),
    )
    return ex.deliver(response, emitted, wire.modern_status(response))


def _param_header_rejection(ex: Exchange, params: dict[str, Any]) -> InboundLadderRejection | None:
    """`Mcp-Param-*` headers must agree with the arguments annotated `x-mcp-header`."""
    lookup = ex.server.get_tool_input_schema
    name = params.get("name")
    arguments = params.get("arguments")
    if lookup is None or not isinstance(name, str):
        return None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return None  # the kernel's params validation answers this one
    if not arguments and not any(key.startswith("mcp-param-") for key in ex.headers):
        return None
    schema = lookup(name)
    if schema is None or not _annotated(schema):
        return None  # nothing annotated x-mcp-header: no Mcp-Param-* header is checked
    return validate_mcp_param_headers(schema, arguments, HeaderPairs(ex.pairs, ex.headers))


#: id(schema) -> (schema, has x-mcp-header annotations). Schemas are built once per tool,
#: so walking each one on every call (~10 us) is work that belongs at start-up.
_ANNOTATED: dict[int, tuple[Any, bool]] = {}


def _annotated(schema: Any) -> bool:
    known = _ANNOTATED.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    if len(_ANNOTATED) >= 4096:  # tools come and go; never grow without bound
        _ANNOTATED.clear()
    annotated = bool(x_mcp_header_map(schema))
    _ANNOTATED[id(schema)] = (schema, annotated)  # the schema is kept alive: its id stays its own
    return annotated

"""JSON-RPC over HTTP, the bytes side: parsing bodies, shaping replies.

Pure functions and small value types with no I/O, so every malformed input
can be tested without a server. The endpoint (`app.transport.endpoint`) decides *when*
to answer what; this module decides *how the answer looks on the wire*.

Hand-written rather than taken from the SDK because the SDK's transport
couples these steps to its session machinery and Starlette `Response`
objects; here they must be cheap enough for the per-request hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS
from mcp_types import INVALID_REQUEST, PARSE_ERROR
from pydantic_core import from_json, to_json

JSON_CT: Final = b"application/json"
SSE_CT: Final = b"text/event-stream"




@dataclass(frozen=True, slots=True)
class Reply:
    """One complete HTTP answer. Lambda buffers bodies anyway, so every reply is whole."""

    status: int
    body: bytes = b""
    content_type: bytes | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()


class ParseFailure(Exception):
    """The body is not a JSON document (bad syntax, bad UTF-8, too deep, NaN, lone surrogates)."""


def decode_json(body: bytes) -> Any:
    """Decode a request body, refusing everything RFC 8259 refuses.

    pydantic-core's parser (already a dependency of the SDK) is 4x faster than
    `json.loads` and bounds nesting depth itself; every failure it has - bad
    UTF-8, pathological nesting, NaN, unpaired surrogate escapes, absurd
    numbers - is a ValueError, turned into `ParseFailure`, never a 500.

    Only object keys go through pydantic-core's process-wide string cache: by
    default it also keeps every short string *value* it parses (item ids,
    titles, request ids: new with nearly every request) in 16,384 slots,
    ~1 MB that a warm instance fills and never gives back (issue 19). Keys are
    the protocol's small vocabulary, so they still hit the cache.
    """
    try:
        return from_json(body, allow_inf_nan=False, cache_strings="keys")
    except (ValueError, RecursionError):
        raise ParseFailure("body is not valid JSON") from None


def error_object(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    """A JSON-RPC error response. `id` is always present, `null` when unknown."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def json_reply(payload: Any, status: int = 200, headers: tuple[tuple[bytes, bytes], ...] = ()) -> Reply:
    return Reply(status, to_json(payload), JSON_CT, headers)


def error_reply(status: int, request_id: Any, code: int, message: str, data: Any = None) -> Reply:
    return json_reply(error_object(request_id, code, message, data), status)


def modern_status(message: Mapping[str, Any]) -> int:
    """HTTP status of a 2026-07-28 reply: from the error code, 200 for results."""
    error = message.get("error")
    if isinstance(error, Mapping):
        return ERROR_CODE_HTTP_STATUS.get(error.get("code"), 200)  # type: ignore[arg-type]
    return 200


def sse_reply(events: Iterable[Mapping[str, Any]], status: int = 200) -> Reply:
    """The notifications a handler emitted, then its response, as one SSE body."""
    body = b"".join(b"event: message\ndata: " + to_json(event) + b"\n\n" for event in events)
    return Reply(status, body, SSE_CT, ((b"cache-control", b"no-cache, no-transform"),))


PARSE_ERROR_REPLY: Final = error_reply(400, None, PARSE_ERROR, "Parse error: body is not valid JSON")
ACCEPTED: Final = Reply(202)


def invalid_request(request_id: Any, message: str) -> Reply:
    return error_reply(400, request_id, INVALID_REQUEST, message)


@lru_cache(maxsize=256)
def accepts(accept: str) -> tuple[bool, bool]:
    """(json_ok, sse_ok) for an Accept header.

    Lenient where it costs nothing: no Accept header, `*/*` and `application/*`
    all mean JSON is fine (RFC 9110: an absent Accept accepts anything).
    """
    if not accept:
        return True, True
    json_ok = sse_ok = False
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media == "*/*":
            return True, True
        if media in ("application/json", "application/*"):
            json_ok = True
        elif media in ("text/event-stream", "text/*"):
            sse_ok = True
    return json_ok, sse_ok


@lru_cache(maxsize=256)
def is_json_content_type(content_type: str) -> bool:
    """`application/json`, parameters such as charset allowed, case-insensitive."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def valid_id(value: Any) -> bool:
    """A JSON-RPC id: string or integer (booleans are not integers here), or null."""
    return (isinstance(value, (str, int)) and not isinstance(value, bool)) or value is None


def echoable_id(message: Mapping[str, Any]) -> Any:
    """The id to put on an error about `message`: its own when well-formed, else null."""
    request_id = message.get("id")
    return request_id if valid_id(request_id) else None


def request_shape_error(message: Mapping[str, Any]) -> str | None:
    """Why a request (or notification: no `id`) object is malformed, or None."""
    if message.get("jsonrpc") != "2.0":
        return 'Invalid request: "jsonrpc" must be "2.0"'
    if not isinstance(message.get("method"), str):
        return 'Invalid request: "method" must be a string'
    if "id" in message and (message["id"] is None or not valid_id(message["id"])):
        return 'Invalid request: "id" must be a string or an integer'
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        return 'Invalid request: "params" must be an object'
    return None


def is_response(message: Mapping[str, Any]) -> bool:
    """A posted JSON-RPC response (result or error), which no stateless server is waiting for."""
    return "method" not in message and "id" in message and ("result" in message or "error" in message)

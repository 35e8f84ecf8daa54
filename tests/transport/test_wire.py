"""app.transport.wire: JSON-RPC bytes, pure functions."""

from __future__ import annotations

import json

import pytest

from app.transport import wire


@pytest.mark.parametrize(
    "body",
    [b"{", b"\xc3\x28", b"[" * 5000, b"NaN", b'{"a": Infinity}', b'"\\udc00"', b"1" + b"0" * 5000, b""],
    ids=["truncated", "invalid-utf8", "deep", "nan", "infinity", "lone-surrogate", "huge-number", "empty"],
)
def test_decode_json_refuses_what_json_refuses(body: bytes) -> None:
    with pytest.raises(wire.ParseFailure):
        wire.decode_json(body)


def test_decode_json_reads_unicode_and_big_ints() -> None:
    assert wire.decode_json('{"t": "héllo ✓", "n": 12345678901234567890}'.encode()) == {"t": "héllo ✓", "n": 12345678901234567890}


def test_decode_json_keeps_none_of_the_values_it_read() -> None:
    # Issue 19: pydantic-core's string cache kept every short value (ids, titles) of every body:
    # ~1 MB a warm instance filled and held. Values are new objects; nothing outlives the call.
    import tracemalloc

    bodies = [json.dumps({"jsonrpc": "2.0", "id": f"r-{i}", "params": {"title": f"item {i}"}}).encode() for i in range(5000)]
    tracemalloc.start()
    try:
        for body in bodies:
            wire.decode_json(body)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 10_000, f"decoding 5,000 bodies left {held} bytes behind"
    assert wire.decode_json(bodies[7]) == {"jsonrpc": "2.0", "id": "r-7", "params": {"title": "item 7"}}


@pytest.mark.parametrize(
    "accept,expected",
    [
        ("", (True, True)),
        ("*/*", (True, True)),
        ("application/json, text/event-stream", (True, True)),
        ("application/json;q=0.9", (True, False)),
        ("text/event-stream", (False, True)),
        ("application/*", (True, False)),
        ("text/*", (False, True)),
        ("text/html, image/png", (False, False)),
    ],
    ids=["absent", "any", "both", "json-with-q", "sse", "app-any", "text-any", "neither"],
)
def test_accepts(accept: str, expected: tuple[bool, bool]) -> None:
    assert wire.accepts(accept) == expected


@pytest.mark.parametrize(
    "content_type,ok",
    [("application/json", True), ("Application/JSON; charset=utf-8", True), ("application/vnd.api+json", True), ("text/plain", False), ("", False)],
)
def test_json_content_type(content_type: str, ok: bool) -> None:
    assert wire.is_json_content_type(content_type) is ok


@pytest.mark.parametrize(
    "message,problem",
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, None),
        ({"id": 1, "method": "ping"}, '"jsonrpc" must be "2.0"'),
        ({"jsonrpc": "2.0", "id": 1}, '"method" must be a string'),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, '"id" must be a string or an integer'),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, '"id" must be a string or an integer'),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"}, '"params" must be an object'),
    ],
    ids=["request", "notification", "no-version", "no-method", "bool-id", "null-id", "string-params"],
)
def test_request_shape_error(message: dict[str, object], problem: str | None) -> None:
    found = wire.request_shape_error(message)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_responses_and_echoable_ids() -> None:
    assert wire.is_response({"jsonrpc": "2.0", "id": 3, "result": {}})
    assert not wire.is_response({"jsonrpc": "2.0", "id": 3, "method": "x"})
    assert wire.echoable_id({"id": {"bad": 1}}) is None
    assert wire.echoable_id({"id": "abc"}) == "abc"


def test_error_reply_keeps_a_null_id() -> None:
    reply = wire.error_reply(400, None, -32600, "nope", {"why": 1})
    assert reply.status == 400 and reply.content_type == wire.JSON_CT
    assert json.loads(reply.body) == {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "nope", "data": {"why": 1}}}


def test_sse_reply_frames_each_message() -> None:
    reply = wire.sse_reply([{"jsonrpc": "2.0", "method": "notifications/progress"}, {"jsonrpc": "2.0", "id": 1, "result": {}}])
    frames = reply.body.decode().split("\n\n")
    assert frames[0].startswith("event: message\ndata: ") and frames[2] == ""
    assert [json.loads(f.split("data: ", 1)[1]) for f in frames[:2]][1]["id"] == 1


@pytest.mark.parametrize("code,status", [(-32601, 404), (-32602, 400), (-32020, 400), (-32022, 400), (-32603, 200), (-32001, 200)])
def test_modern_status_follows_the_error_code(code: int, status: int) -> None:
    assert wire.modern_status({"error": {"code": code, "message": "x"}}) == status
    assert wire.modern_status({"result": {}}) == 200

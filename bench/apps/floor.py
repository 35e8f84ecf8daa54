"""The floor: one Starlette route under Mangum returning canned JSON-RPC.

Reads and parses the body (to echo the request id), answers `initialize` with
a canned InitializeResult and anything else with the canned `tools/call`
result of `add(2, 3)`. No MCP code: what any Starlette-on-Lambda app pays.
"""

from __future__ import annotations

import json
import warnings

from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {"listChanged": False}},
    "serverInfo": {"name": "floor", "version": "0"},
}
_CALL = {"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}, "isError": False}


async def mcp(request: Request) -> Response:
    message = json.loads(await request.body())
    result = _INITIALIZE if message.get("method") == "initialize" else _CALL
    body = json.dumps({"jsonrpc": "2.0", "id": message.get("id"), "result": result}, separators=(",", ":"))
    return Response(body, media_type="application/json")


app = Starlette(routes=[Route("/mcp", mcp, methods=["POST"])])

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="mangum")
    warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)
    handler = Mangum(app, lifespan="off")

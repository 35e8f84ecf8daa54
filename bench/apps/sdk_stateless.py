"""The MCP SDK's own stateless app under Mangum: what a user would write without this project.

    app = server.streamable_http_app(stateless_http=True, json_response=True)
    handler = Mangum(app, lifespan="off")

That alone fails every request: the app's `StreamableHTTPSessionManager` only
serves inside `session_manager.run()`, which the app enters in its ASGI
lifespan, and `run()` may be entered once per instance. Mangum's lifespan
(when on) is entered and left around *every* invocation, so the second call
would raise; with it off, `run()` is never entered. The working recipe, used
here: enter `run()` once per process, in a task on the event loop Mangum uses
(Mangum 0.22 drives each invocation with `loop.run_until_complete` on
`asyncio.get_event_loop()`). The task stays parked between invocations and
hosts the manager's task group; each invocation's per-request server task is
started into that group.

Two more things a Lambda user has to change from the SDK defaults:
- DNS-rebinding protection: `streamable_http_app()` defaults to host
  127.0.0.1 and then only accepts Host `127.0.0.1`/`localhost`; an
  execute-api Host gets 421. Turned off here (API Gateway routes only its own
  domains; the project's default, empty `allowed_hosts`, is the same).
- Mangum's DeprecationWarning about `asyncio.get_event_loop()` on 3.12+.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from mangum import Mangum
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from bench.apps.tools import build_server


def _enter_session_manager_once(server: MCPServer[Any]) -> asyncio.Task[None]:
    """Enter `server.session_manager.run()` on the current event loop and keep it entered.

    Returns the parked task (keep a reference: the loop holds tasks weakly).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)
        loop = asyncio.get_event_loop()
    entered: asyncio.Future[None] = loop.create_future()

    async def hold() -> None:
        async with server.session_manager.run():
            entered.set_result(None)
            await asyncio.Event().wait()  # until the process ends

    task = loop.create_task(hold(), name="mcp-session-manager")
    loop.run_until_complete(asyncio.wait({entered, task}, return_when=asyncio.FIRST_COMPLETED))
    if task.done():  # run() failed on entry: surface why
        task.result()
        raise RuntimeError("session manager task ended before entering run()")
    return task


def build_handler() -> tuple[Mangum, asyncio.Task[None]]:
    server = build_server()
    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="mangum")
        warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)
        mangum = Mangum(app, lifespan="off")  # sets the event loop it will use, if none is set
    return mangum, _enter_session_manager_once(server)


handler, _session_manager_task = build_handler()

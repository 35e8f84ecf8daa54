"""A server's lifespan, entered once per process on first use and kept open.

A Lambda execution environment has no shutdown hook and Mangum's ASGI lifespan
is off, so nothing enters the server's lifespan at start-up: the first request
does, and every later one reuses its state. The HTTP endpoint
(`app.transport.endpoint`) and the task executor (`app.tasks.execution`, which
serves task runs through the same server without HTTP) each hold one.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from mcp.server.lowlevel import Server


class ServerLifespan:
    """`server.lifespan(server)`, entered at the first `enter()` and left at `aclose()`."""

    __slots__ = ("_server", "_stack", "state")

    def __init__(self, server: Server[Any]) -> None:
        self._server = server
        self._stack: AsyncExitStack | None = None
        #: What the lifespan yielded; read directly once `entered` (the hot path awaits nothing).
        self.state: Any = None

    @property
    def entered(self) -> bool:
        return self._stack is not None

    async def enter(self) -> Any:
        """The lifespan's state, entering the lifespan the first time."""
        if self._stack is None:
            stack = AsyncExitStack()
            self.state = await stack.enter_async_context(self._server.lifespan(self._server))
            self._stack = stack
        return self.state

    async def aclose(self) -> None:
        """Leave the lifespan (ASGI shutdown under uvicorn, a closing worker pool); a later `enter()` re-enters."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            self.state = None
            await stack.aclose()

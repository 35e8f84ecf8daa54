"""A boto3 client built at its first use instead of at start-up.

Building a client loads its service model (DynamoDB: ~60 ms and ~10 MB; Lambda: ~8 ms and
~2 MB). A cold start that serves a request not touching that service (initialize, tools/list,
a tool without the store, any request without a task) need not pay for it. With SnapStart the
priming hook resolves every lazy client before the snapshot (`SnapStartHooks(clients=...)`),
so a restored instance never builds one during a request.

Standard library only: the factory passed in imports boto3.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazyClient:
    """Stands in for the client `build()` returns; the first attribute read builds it (once)."""

    __slots__ = ("_build", "_client", "_lock", "service")

    def __init__(self, service: str, build: Callable[[], Any]) -> None:
        #: The AWS service, for logs and the SnapStart report.
        self.service = service
        self._build = build
        self._client: Any = None
        # Local task workers run tools in threads: two first uses at once must build one client.
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._client is not None

    def resolve(self) -> Any:
        """The client, built now if it was not yet."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
                client = self._client
        return client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        return f"LazyClient({self.service!r}, built={self.built})"

"""What the product's benchmark cases are built from (the cases themselves: `bench.product`).

- the local development key (`DEV_KEY`, its header `AUTH`) and observability as on Lambda (`LAMBDA_LIKE`);
- `add_call_with_key`, the `call` probe with a key known only at send time;
- `Sink`, a counting text stream into /dev/null (log and EMF output; `bench.snapstart` uses it too);
- the handler builders `product_of` / `product_handler` (`build_product(...)`, as Lambda runs it);
- temporary directories: `tempdir`, and `CaseDir` (one case's SQLite item store).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bench import events
from bench.cases import Probe

#: Local-only development key (AuthSettings refuses MCP_DEV_API_KEY on Lambda).
DEV_KEY = "bench-local-dev-key-0001"
AUTH = {"authorization": f"Bearer {DEV_KEY}"}
#: Observability as on Lambda (tests/observability/): metrics on, tracing off.
LAMBDA_LIKE = {
    "AWS_LAMBDA_FUNCTION_NAME": "mcp-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "1",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "POWERTOOLS_SERVICE_NAME": "mcp-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "McpBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def add_call_with_key(key: Callable[[], str]) -> dict[str, Probe]:
    """The `call` probe (tools/call add(2, 3) at the handshake era) with the Bearer key `key()` gives at send time."""
    return {
        "call": Probe(
            lambda: events.tools_call_event("add", {"a": 2, "b": 3}, {"authorization": f"Bearer {key()}"}),
            events.check_tool_text("5"),
            f"tools/call add @{events.HANDSHAKE_VERSION}",
        )
    }


class Sink(io.TextIOBase):
    """A text stream into /dev/null that counts what it was given (lines, characters).

    Each write still reaches a real file object (and its flush a `write(2)`), as a
    log line on Lambda reaches stdout.
    """

    def __init__(self) -> None:
        self._file = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.lines = 0
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.chars += len(text)
        return self._file.write(text)

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._file.close()


# -- builders -----------------------------------------------------------------


def product_of(env: Mapping[str, str], *, lambda_like: bool = False, log_stream: Any = None):  # noqa: ANN201
    """`build_product(env)`; with `lambda_like`, observability configured as on Lambda."""
    from app.main import build_product
    from app.observability import ObservabilitySettings

    # Quotas off unless a case sets them: these cases make thousands of calls as one principal, and
    # their figures stay comparable with earlier runs; `bench.quota` measures the quota check itself.
    observability = ObservabilitySettings.from_env(LAMBDA_LIKE) if lambda_like else None
    return build_product({"MCP_QUOTA_ENABLED": "false", **env}, log_stream=log_stream, observability=observability)


def product_handler(env: Mapping[str, str], **options: Any):  # noqa: ANN201
    """The handler as Lambda runs it: `Product.lambda_handler()`, which ends with `settle_heap()`.

    Cases built with it set `settled_heap=True` (the bench re-applies the collector settings per batch).
    """
    return product_of(env, **options).lambda_handler()


# -- temporary directories ------------------------------------------------------


@contextlib.contextmanager
def tempdir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="mcp-bench-product-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class CaseDir:
    """A temporary directory for one case's files (its SQLite item store)."""

    def __init__(self) -> None:
        self.path = ""

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        with tempdir() as path:
            self.path = path
            yield

    def local_env(self) -> dict[str, str]:
        return {"MCP_DEV_API_KEY": DEV_KEY, "ITEMS_SQLITE_PATH": os.path.join(self.path, "items.sqlite3")}

"""The product's Lambda handler in its configurations: cases `product`, `product-read-only`, `product-prod`.

- `product`: local configuration, the dev key (every scope); tools/call and tools/list.
- `product-read-only`: an API key (cached ring) holding only items:read: the scope middleware checks
  each call and filters tools/list.
- `product-prod`: observability as on Lambda (JSON access log, EMF), output counted into /dev/null.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bench import events
from bench.cases import Case, Probe, register, standard_probes
from bench.product_setup import AUTH, CaseDir, Sink, product_handler, product_of

#: What tools/list must show with every scope, and with items:read only.
_READ_TOOLS = ("add", "echo", "items_get", "items_search", "items_list")
_WRITE_TOOLS = ("items_add", "items_update", "items_delete")
_ALL_TOOLS = _READ_TOOLS + _WRITE_TOOLS


def list_probe(headers: Mapping[str, str], present: Sequence[str], absent: Sequence[str] = ()) -> Probe:
    """tools/list at the handshake version; the answer must list every tool of `present` and none of `absent`.
    (Names, not a count: other tools join the product over time, e.g. task-capable ones.)"""

    def check(response: Mapping[str, Any]) -> str | None:
        status, message, _ = events.response_message(response)
        listed = ((message or {}).get("result") or {}).get("tools")
        if status != 200 or not isinstance(listed, list):
            return f"HTTP {status}: {str(response.get('body'))[:300]}"
        names = {tool.get("name") for tool in listed}
        missing = sorted(set(present) - names)
        extra = sorted(names & set(absent))
        return f"tools/list lacks {missing} or holds {extra}" if missing or extra else None

    return Probe(
        lambda: events.http_api_event(events.rpc("tools/list", {}, 4), {"mcp-protocol-version": events.HANDSHAKE_VERSION, **headers}),
        check,
        f"tools/list @{events.HANDSHAKE_VERSION}",
    )


_product_dir = CaseDir()

register(
    Case(
        name="product",
        module="app.main",
        description="the product, local config: build_product(dev key, SQLite).lambda_handler() "
        "(auth + observability middleware, logging off; every tool registered)",
        probes={**standard_probes(headers=AUTH, modern=False), "list": list_probe(AUTH, _ALL_TOOLS)},
        warm=("call", "list"),
        cold=(),
        factory=lambda: product_handler(_product_dir.local_env()),
        settled_heap=True,
        setup=_product_dir.setup,
        extras={"paired_with": "project"},
    )
)


# Per-item scopes (issue 11): `product` above holds every declared scope (the dev key), so the scope
# middleware passes on one subset check; here a key ring key holds only items:read, so tools/call
# pays the per-tool check and tools/list is filtered (items_add/update/delete left out).
_scoped_dir = CaseDir()
_scoped: dict[str, str] = {}


@contextlib.contextmanager
def _scoped_setup() -> Iterator[None]:
    from app.auth.keyring import digest_hex, generate_key

    with _scoped_dir.setup():
        key_id, key = generate_key()
        path = os.path.join(_scoped_dir.path, "ring.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump({key_id: {"sha256": digest_hex(key), "name": "bench-reader", "scopes": ["items:read"]}}, out)
        _scoped.update(key=key, path=path)
        try:
            yield
        finally:
            _scoped.clear()


def _scoped_handler():  # noqa: ANN201
    env = {
        "MCP_API_KEYS_FILE": _scoped["path"],
        "MCP_SECRET_TTL_S": "86400",
        "ITEMS_SQLITE_PATH": os.path.join(_scoped_dir.path, "items.sqlite3"),
    }
    return product_handler(env)


def _reader() -> dict[str, str]:
    return {"authorization": f"Bearer {_scoped['key']}"}


register(
    Case(
        name="product-read-only",
        module="app.main",
        description="the product, local config, an API key (cached ring) holding only items:read: the scope "
        "middleware checks each call and filters tools/list (compare with `product`, which holds every scope)",
        probes={
            "call": Probe(
                lambda: events.tools_call_event("add", {"a": 2, "b": 3}, _reader()),
                events.check_tool_text("5"),
                f"tools/call add @{events.HANDSHAKE_VERSION}",
            ),
            "list": Probe(lambda: list_probe(_reader(), _READ_TOOLS).event(), list_probe({}, _READ_TOOLS, _WRITE_TOOLS).check, f"tools/list @{events.HANDSHAKE_VERSION} (filtered)"),
        },
        warm=("call", "list"),
        cold=(),
        factory=_scoped_handler,
        settled_heap=True,
        setup=_scoped_setup,
    )
)


class _Production:
    """The production-config case's output streams and observability settings."""

    def __init__(self) -> None:
        self.dir = CaseDir()
        self.logs: Sink | None = None
        self.stdout: Sink | None = None
        self.settings: Any = None

    @contextlib.contextmanager
    def setup(self) -> Iterator[None]:
        with self.dir.setup():
            self.logs, self.stdout = Sink(), Sink()
            try:
                yield
            finally:
                from app.observability import reset_logging

                reset_logging()  # detach the app's handler from the sink
                self.logs.close()
                self.stdout.close()

    def handler(self):  # noqa: ANN201
        product = product_of(self.dir.local_env(), lambda_like=True, log_stream=self.logs)
        self.settings = product.observability
        return product.lambda_handler()

    @contextlib.contextmanager
    def io(self) -> Iterator[None]:
        """Around every batch of calls: logging on (the bench runs with logging disabled), the
        app's JSON handler on the log sink (another product built later may have replaced it),
        stdout (EMF) into the other sink."""
        from app.observability import configure_logging

        previous = logging.root.manager.disable
        logging.disable(logging.NOTSET)
        configure_logging(self.settings, stream=self.logs)
        try:
            with contextlib.redirect_stdout(self.stdout):
                yield
        finally:
            logging.disable(previous)


production = _Production()

register(
    Case(
        name="product-prod",
        module="app.main",
        description="project, production config: auth + JSON access log + EMF (the product with "
        "observability as on Lambda, tracing off; dev key instead of the SSM ring; logs and EMF to /dev/null)",
        probes=standard_probes(headers=AUTH),
        warm=("call", "call_modern"),
        cold=(),
        factory=production.handler,
        settled_heap=True,
        setup=production.setup,
        around=production.io,
        extras={"output": production},
    )
)

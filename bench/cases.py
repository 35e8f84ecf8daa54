"""The registry of benchmark cases: what is measured, against what.

A `Case` is a Lambda handler module plus the requests ("probes") sent to it:

- `module` builds `handler` at import time (its import is what a cold start pays);
  `factory` returns the handler in-process for warm measurements (default:
  import `module` and take `handler`).
- `probes` maps a probe name to a `Probe`: an event builder and a response check.
  Every probe is checked twice in a row before anything is timed.
- `warm` lists the probes timed warm (each becomes a row "case / probe");
  `cold` is the request sequence a fresh process serves after importing
  (first one = "initialize" column, second = "first call" column).
- `env` is set for the cold-start child processes; `setup` (a context-manager
  factory) runs around the in-process measurements: both are for cases that
  need e.g. API keys in SSM or a moto server. Nothing may listen beyond
  127.0.0.1.

To add a case, build a `Case` and call `register(case)` here (or from a module
imported below). Example, a project variant with API-key auth:

    register(Case(
        name="project-apikey",
        module="bench.apps.project_apikey",       # builds handler with auth on
        description="project, API-key auth on",
        probes=standard_probes(headers={"x-api-key": "bench-key"}),
        env={"MCP_API_KEYS_PARAM": "/bench/keys", "AWS_ENDPOINT_URL": "http://127.0.0.1:PORT"},
        setup=start_moto_and_put_keys,
    ))

A measurement that is not "warm call" or "cold process" (e.g. the first request
after a simulated SnapStart restore, in `bench.spawned`) is a function that takes a
`Case`, called by `bench.run`; give the case whatever hook it needs (`extras`).

More knobs: `warm=()` means nothing is built in-process; `cold=()` means no cold
starts (variants of a handler measured warm only); `max_calls` caps the calls per
round of a ms-scale case; `around` (a context-manager factory) is entered around
every batch of calls to the handler; a `Probe(fresh=True)` gets a new event per
timed call (built before the timing). Hooks read from `extras` by the run (`bench.run`,
`bench.warm`, `bench.spawned`) and the report (`bench.report`, `bench.tables`):
`"restore"` (a spec factory: the case is a SnapStart restore case, `bench.snapstart`),
`"paired_with"` (also measured A/B call by call against that case), `"kind": "items"`
(reported in the item-store table), `"output"` (counted log/EMF sinks, reported).
The product's cases live in `bench.product_*`; `bench.product` imports those (registering them, in order)
when `bench.run` imports it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench import events

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Probe:
    """One kind of request: how to build its event and how to tell its answer is right."""

    event: Callable[[], dict[str, Any]]
    check: Callable[[Mapping[str, Any]], str | None]  # None when correct, else why not
    label: str = ""
    #: Build a new event for every timed call (e.g. a fresh idempotency key), outside the timing.
    fresh: bool = False


@dataclass(frozen=True)
class Case:
    #: The name `--cases` and the report use.
    name: str
    #: The handler module: its import is what a cold start pays; its `handler` is the warm one without `factory`.
    module: str
    description: str
    probes: Mapping[str, Probe]
    #: Probes timed warm in this process (empty: the case runs only in fresh processes).
    warm: tuple[str, ...] = ("call",)
    #: Probes a cold start sends, in order, after importing `module`.
    cold: tuple[str, ...] = ("initialize", "call")
    factory: Callable[[], Handler] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    setup: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    #: At most this many timed calls per round (and warm-up calls): for ms-scale cases.
    max_calls: int | None = None
    #: Entered around every batch of calls to this case's handler (verify, warm-up, each round):
    #: e.g. logging switched on and stdout redirected for the production configuration.
    around: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
    #: The deployment ends start-up with `app.settle_heap()` (`Product.lambda_handler()` does; the README
    #: tells teams using `create_lambda_handler` to): start-up heap frozen, young-generation threshold
    #: raised. Its batches run with those collector
    #: settings, every other case's with Python's defaults, as each would run on Lambda (see `heap`).
    settled_heap: bool = False

    def handler(self) -> Handler:
        if self.factory is not None:
            return self.factory()
        return importlib.import_module(self.module).handler

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return self.setup() if self.setup is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def io(self) -> Iterator[None]:
        with heap(settled=self.settled_heap), (self.around() if self.around is not None else contextlib.nullcontext()):
            yield

    @property
    def in_process(self) -> bool:
        """Whether the run builds this case's handler in-process (it has warm probes)."""
        return bool(self.warm)


#: The collector's thresholds as Python starts (before any handler is built in this process).
DEFAULT_GC_THRESHOLD = gc.get_threshold()


@contextlib.contextmanager
def heap(*, settled: bool) -> Iterator[None]:
    """The collector as a case's deployment leaves it, around one batch of its calls.

    `settle_heap()` is process-wide and every in-process case shares this process, so the
    bench applies it per batch: settled, `settle_heap()` itself (what is alive now is frozen,
    gen0 threshold raised); otherwise Python's defaults. Afterwards back to the defaults with
    nothing frozen. Both steps are O(1) list splices, outside any timing.
    """
    default_heap()
    if settled:
        from app import settle_heap

        settle_heap()
    try:
        yield
    finally:
        default_heap()


def default_heap() -> None:
    """Nothing frozen, Python's thresholds: undoes `settle_heap()` (building a product handler calls it)."""
    gc.unfreeze()
    gc.set_threshold(*DEFAULT_GC_THRESHOLD)


def standard_probes(headers: Mapping[str, str] | None = None, *, modern: bool = True) -> dict[str, Probe]:
    """initialize, tools/call add(2, 3) at a handshake version, and (if `modern`) at 2026-07-28."""
    extra = dict(headers or {})
    probes = {
        "initialize": Probe(lambda: events.initialize_event(extra), events.check_initialize, "initialize"),
        "call": Probe(
            lambda: events.tools_call_event("add", {"a": 2, "b": 3}, extra),
            events.check_tool_text("5"),
            f"tools/call add @{events.HANDSHAKE_VERSION}",
        ),
    }
    if modern:
        probes["call_modern"] = Probe(
            lambda: events.modern_tools_call_event("add", {"a": 2, "b": 3}, extra),
            events.check_tool_text("5"),
            f"tools/call add @{events.MODERN_VERSION}",
        )
    return probes


CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    if case.name in CASES:
        raise ValueError(f"case {case.name!r} is already registered")
    for name in (*case.warm, *case.cold):
        if name not in case.probes:
            raise ValueError(f"case {case.name!r}: no probe named {name!r}")
    CASES[case.name] = case
    return case


# The three handlers serving add/echo, both eras warm. The floor is canned: it answers anything with the add(2, 3)
# result; its 2026 probe measures the same route fed the 2026-07-28 event (its headers and _meta), the floor of
# that era's warm call.
for _name, _module, _description in (
    ("project", "bench.apps.project", "this project: create_lambda_handler(MCPServer)"),
    ("sdk", "bench.apps.sdk_stateless", "MCP SDK streamable_http_app(stateless_http=True, json_response=True) + Mangum"),
    ("floor", "bench.apps.floor", "Starlette route + Mangum, canned JSON-RPC"),
):
    # This project's handler.py ends start-up with settle_heap(), as the README says; the SDK app and the
    # floor run with Python's defaults, as their users get them.
    register(
        Case(_name, _module, _description, standard_probes(), warm=("call", "call_modern"), settled_heap=_name == "project")
    )

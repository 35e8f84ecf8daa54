"""The soak's child process: the shipped `handler.handler`, warm, fed a steady item loop.

    python -m tests.soak.driver --calls 20000 --warmup 2000 --out result.json [--lambda-root] [--top 15]

Run by `tests.soak.run` in a process of its own, so nothing of the parent (pytest,
moto, the suite's imports) is in what is measured. The configuration comes from
the environment, as on Lambda (the parent sets it). Each round adds an item, reads,
renames, searches and deletes it, in both protocol eras (ten calls), so the store
ends where it began and what stays behind is the server's, not the data's.

After `--warmup` calls (every code path taken, every lazy client and cache built):

- `rss_growth`: the resident set's growth over `--calls` more calls, garbage collected at
  both ends, nothing else running (not tracemalloc: its tables would count, and its churn
  fragments the C heap); sampled every `--sample` calls to tell a level from a slope;
- `traced_growth`: then, over `--traced-calls` more (default as many) after `--traced-settle`
  traced ones, the growth of what Python allocated and still holds: exact, grouped by
  traceback in `top` when asked.

`--lambda-root` adds a root log handler before importing the handler, as the Lambda
runtime does (which changes what the MCP SDK configures at start-up: `app.transport.sdk` (10)).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from app.core.events import HANDSHAKE_VERSION, MODERN_VERSION, FakeLambdaContext, http_api_event, modern_meta

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE


class Client:
    """Builds the events of one protocol era and checks every answer (a failed call fails the soak)."""

    def __init__(self, handler: Any, key: str) -> None:
        self.handler = handler
        self.auth = {"authorization": f"Bearer {key}"}
        self.calls = 0

    def call(self, tool: str, arguments: dict[str, Any], *, modern: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"name": tool, "arguments": arguments}
        if modern:
            params["_meta"] = modern_meta("mcp-soak")
            headers = {"mcp-protocol-version": MODERN_VERSION, "mcp-method": "tools/call", "mcp-name": tool}
        else:
            headers = {"mcp-protocol-version": HANDSHAKE_VERSION}
        body = {"jsonrpc": "2.0", "id": self.calls, "method": "tools/call", "params": params}
        event = http_api_event(body, {**headers, **self.auth}, request_id=f"soak-{self.calls}")
        response = self.handler(event, FakeLambdaContext())
        self.calls += 1
        message = json.loads(response.get("body") or "null")
        result = (message or {}).get("result")
        if response.get("statusCode") != 200 or not result or result.get("isError"):
            raise SystemExit(f"{tool} (modern={modern}) failed: {response.get('statusCode')} {str(response.get('body'))[:400]}")
        return result["structuredContent"]

    def round(self, n: int) -> None:
        """Ten calls: add, get, update, search, delete in each era; the store is left as it was."""
        for modern in (False, True):
            added = self.call("items_add", {"title": f"soak {n}", "body": "kept for one round", "tags": ["soak"]}, modern=modern)
            item = added["item"]
            self.call("items_get", {"id": item["id"]}, modern=modern)
            updated = self.call(
                "items_update", {"id": item["id"], "expected_version": item["version"], "title": f"soak {n} renamed"}, modern=modern
            )
            self.call("items_search", {"text": "renamed", "tags": ["soak"], "limit": 5}, modern=modern)
            self.call("items_delete", {"id": item["id"], "expected_version": updated["version"]}, modern=modern)


def _top(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, limit: int) -> list[dict[str, Any]]:
    """The largest live growth, grouped by allocation traceback (innermost frame last)."""
    stats = after.compare_to(before, "traceback")
    stats.sort(key=lambda stat: stat.size_diff, reverse=True)
    top = []
    for stat in stats[:limit]:
        if stat.size_diff <= 0:
            break
        frames = [f"{frame.filename}:{frame.lineno}" for frame in stat.traceback]
        top.append({"size_diff": stat.size_diff, "count_diff": stat.count_diff, "traceback": frames})
    return top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, required=True, help="invocations after warm-up")
    parser.add_argument("--warmup", type=int, default=2000)
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--key", default=os.environ.get("SOAK_KEY", ""), help="the Bearer key (default: $SOAK_KEY)")
    parser.add_argument("--lambda-root", action="store_true", help="a root log handler first, as the Lambda runtime")
    parser.add_argument("--top", type=int, default=0, help="report this many largest growths by traceback")
    parser.add_argument("--traced-calls", type=int, help="invocations traced by tracemalloc after those (default: --calls)")
    parser.add_argument("--traced-settle", type=int, default=1000, help="traced calls before tracemalloc's count starts")
    parser.add_argument("--sample", type=int, default=1000, help="note RSS every this many calls (a multiple of 10)")
    parser.add_argument("--frames", type=int, default=12, help="traceback depth tracemalloc keeps")
    args = parser.parse_args(argv)

    if args.lambda_root:
        logging.getLogger().addHandler(logging.StreamHandler(sys.stderr))
    from handler import handler  # the shipped entry point, built from os.environ

    client = Client(handler, args.key)
    rounds = iter(range(sys.maxsize))

    def serve(calls: int, sample: Callable[[], None] | None = None) -> float:
        goal = client.calls + calls
        started = time.monotonic()
        while client.calls < goal:
            n = next(rounds)
            client.round(n)
            if sample is not None and n % (args.sample // 10) == 0:
                sample()
        return time.monotonic() - started

    serve(args.warmup)
    warm_calls = client.calls
    # RSS first, with nothing else in the process: tracemalloc's own tables would add to it, and
    # their churn fragments the C heap (what it reports it holds is not all it made RSS grow by).
    gc.collect()
    rss_before = rss()
    samples: list[int] = []  # growth that levels off (pools, caches filling) or a slope
    seconds = serve(args.calls, lambda: samples.append(rss() - rss_before))
    gc.collect()
    rss_after = rss()
    # Then live Python allocations over as many calls again: exact, whatever the allocator does.
    # Counted from `--traced-settle` traced calls on: what recent calls leave alive (~40 KB of
    # them: datetimes converted on the tools' worker threads, the same at 3,000 calls as at
    # 20,000) is then in both counts, and only growth remains.
    tracemalloc.start(args.frames if args.top else 1)
    serve(args.traced_settle)
    gc.collect()
    traced_start, _peak = tracemalloc.get_traced_memory()
    before = tracemalloc.take_snapshot() if args.top else None
    traced_calls = args.traced_calls if args.traced_calls is not None else args.calls
    traced_seconds = serve(traced_calls)
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - traced_start
    result: dict[str, Any] = {
        "warmup": warm_calls,
        "calls": args.calls,
        "seconds": round(seconds, 1),
        "rss_before": rss_before,
        "rss_after": rss_after,
        "rss_growth": rss_after - rss_before,
        "rss_samples": samples,
        "traced_calls": traced_calls,
        "traced_seconds": round(traced_seconds, 1),
        "traced_growth": traced,
    }
    if before is not None:
        result["top"] = _top(before, tracemalloc.take_snapshot(), args.top)
    tracemalloc.stop()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

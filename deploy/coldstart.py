"""Cold start of the BUILT artifact, with its bytecode and without.

    python3 deploy/coldstart.py --artifact .aws-sam/host/build/McpFunction [--runs 7]

One sample = one fresh runtime interpreter (see deploy/artifact.py) that imports
`handler`, then serves its first `initialize` and its first `tools/call` (the
committed events/http-v2-initialize.json and events/http-v2-tools-call.json by
default). "without bytecode" runs a copy of the artifact with every __pycache__
removed and bytecode writing off (-B, as PYTHONDONTWRITEBYTECODE=1 would under
-I), which is what a zip without .pyc files costs on Lambda, where /var/task is
read-only and nothing compiled is ever kept. Variants alternate within each
round so drift on a busy machine hits both alike. Prints medians as JSON.

This measures the init work SnapStart moves before the snapshot; on Lambda it
is what a non-SnapStart cold start (or the snapshot's creation) pays.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from artifact import check_runnable_here, child_env, run_child, runtime_python

REPO = Path(__file__).resolve().parent.parent

# Runs inside the artifact's interpreter: argv = [initialize event, tools/call event].
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import handler
t1 = time.perf_counter()

from app.core.events import FakeLambdaContext  # after the timed import: the artifact's own fake context

def invoke(path):
    with open(path, encoding="utf-8") as f:
        response = handler.handler(json.load(f), FakeLambdaContext(25.0, function_name="McpFunction", request_id="coldstart"))
    return response["statusCode"]

s_init = invoke(sys.argv[1])
t2 = time.perf_counter()
s_call = invoke(sys.argv[2])
t3 = time.perf_counter()
pycache_written = any(p.name == "__pycache__" for p in __import__("pathlib").Path(sys.path[0]).rglob("__pycache__"))
print("COLDSTART " + json.dumps({
    "import_ms": (t1 - t0) * 1000, "initialize_ms": (t2 - t1) * 1000, "call_ms": (t3 - t2) * 1000,
    "cold_ms": (t3 - t0) * 1000, "statuses": [s_init, s_call], "pycache": pycache_written,
}))
"""

METRICS = ("cold_ms", "import_ms", "initialize_ms", "call_ms", "process_ms")


def sample(python: str, artifact: Path, events: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mcp-coldstart-items-") as scratch:
        # The committed events carry the local-only development key; items go to a scratch SQLite file.
        local = {"MCP_DEV_API_KEY": "local-dev-key-for-events", "ITEMS_SQLITE_PATH": str(Path(scratch) / "items.sqlite3")}
        proc = run_child(python, artifact, CHILD, events, env=child_env(local))
    process_ms = (time.perf_counter() - started) * 1000
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("COLDSTART ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"coldstart: run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(line[len("COLDSTART ") :])
    if result["statuses"] != [200, 200]:
        raise SystemExit(f"coldstart: initialize/tools/call answered {result['statuses']}, not [200, 200]")
    result["process_ms"] = process_ms
    return result


def medians(samples: list[dict[str, Any]]) -> dict[str, float]:
    return {m: round(statistics.median(s[m] for s in samples), 1) for m in METRICS}


def without_bytecode(artifact: Path, into: Path) -> Path:
    copy = into / "McpFunction"
    shutil.copytree(artifact, copy, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
    return copy


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7, help="samples per variant (median reported)")
    parser.add_argument("--python", help="interpreter to use (default: the artifact's runtime, found)")
    parser.add_argument("--initialize-event", type=Path, default=REPO / "events" / "http-v2-initialize.json")
    parser.add_argument("--call-event", type=Path, default=REPO / "events" / "http-v2-tools-call.json")
    args = parser.parse_args(argv)

    artifact = args.artifact.resolve()
    check_runnable_here(artifact)
    python = runtime_python(artifact, args.python)
    events = [str(args.initialize_event.resolve()), str(args.call_event.resolve())]
    with tempfile.TemporaryDirectory(prefix="mcp-coldstart-") as tmp:
        variants = {"with_bytecode": artifact, "without_bytecode": without_bytecode(artifact, Path(tmp))}
        for path in variants.values():  # warm the page cache; not counted
            sample(python, path, events)
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for round_no in range(args.runs):
            order = list(variants) if round_no % 2 == 0 else list(reversed(variants))
            for name in order:
                samples[name].append(sample(python, variants[name], events))
        if any(s["pycache"] for s in samples["without_bytecode"]):
            raise SystemExit("coldstart: the no-bytecode copy grew a __pycache__; the comparison is void")
    report = {
        "artifact": str(artifact),
        "python": python,
        "runs": args.runs,
        **{name: medians(runs) for name, runs in samples.items()},
    }
    report["cold_ratio_without_over_with"] = round(
        report["without_bytecode"]["cold_ms"] / report["with_bytecode"]["cold_ms"], 2
    )
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make bench`: warm latency/throughput, cold starts and SnapStart restores, all cases alternating, one run.

    python -m bench.run [--quick] [--cases project,sdk,floor,...] [--rounds N] [--calls N]
                        [--cold-runs N] [--no-cold] [--restore-runs N] [--restore-calls N]
                        [--no-restore] [--out DIR]

1. verify (`bench.warm`): every probe of every in-process case is sent twice in a row and checked.
2. warm (`bench.warm`): in this process, rounds of `--calls` timed invocations of each (case, probe)
   (fewer for ms-scale cases: `Case.max_calls`), the order rotating every round;
   gc.collect() between rounds, never during. Then, for the access-control variants,
   A/B call by call against `project` (a small difference needs both at the same moment).
3. restore (`bench.spawned`): fresh processes (`bench.snapstart`) per restore case: prime, simulated
   restore, the first request timed against the warm ones that follow.
4. cold (`bench.spawned`): fresh processes (`bench.coldstart`), `--cold-runs` per case and bytecode mode,
   alternating cases and modes: import, first request(s), peak RSS.
5. report (`bench.report` figures, `bench.tables` renders, `bench.publish` writes):
   bench/results/latest.{json,md} (quick.{json,md} with --quick), the tables
   (handlers, item store, restore), the ratios against the SDK and the floor, what
   access control and observability add over `project`, and PASS/FAIL for the targets.

This module holds the command line, the machine description and the order of the parts.

Exit status: 0 whatever the figures (it is a benchmark); 1 only if a case answers wrongly.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import platform
import sys
import time
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import product as _product_cases  # noqa: F401 - registers the product's cases
from bench.cases import CASES, default_heap
from bench.goals import goals
from bench.publish import publish
from bench.report import MODES, notes_from, output_notes, summarize
from bench.spawned import cold, restore
from bench.warm import paired, verify, warm

RESULTS = Path(__file__).resolve().parent / "results"

# -- helpers ------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    versions = {}
    for dist in ("mcp", "mcp-types", "starlette", "mangum", "pydantic", "pydantic-core", "anyio", "boto3"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "loadavg_at_start": loadavg(),
        "packages": versions,
    }


def quiet() -> None:
    """No log output in timed processes (handlers log per request at INFO otherwise)."""
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="mangum")
    warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)


def raise_file_limit() -> None:
    """Soft limit of open files up to the hard one (moto sockets, SQLite files; see bench.product)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
    except (ImportError, ValueError, OSError):
        pass


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# -- main ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few iterations, writes quick.{json,md}")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--rounds", type=int, help="warm rounds per case (default 8)")
    parser.add_argument("--calls", type=int, help="timed calls per round (default 2000)")
    parser.add_argument("--warmup", type=int, help="untimed calls per case before the rounds (default 500)")
    parser.add_argument("--cold-runs", type=int, help="fresh processes per case and mode (default 9)")
    parser.add_argument(
        "--modes", help="cold bytecode modes (default all; pyc,nopyc with --quick): " + ", ".join(MODES)
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start part")
    parser.add_argument("--restore-runs", type=int, help="fresh processes per SnapStart restore case (default 5)")
    parser.add_argument("--restore-calls", type=int, help="warm calls after the first, per restore run (default 300)")
    parser.add_argument("--no-restore", action="store_true", help="skip the SnapStart restore part")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (2 if quick else 8)
    calls = args.calls or (50 if quick else 2000)
    warmup = args.warmup or (20 if quick else 500)
    cold_runs = args.cold_runs or (1 if quick else 9)
    restore_runs = args.restore_runs or (1 if quick else 5)
    restore_calls = args.restore_calls or (50 if quick else 300)
    modes = [m for m in (args.modes or ("pyc,nopyc" if quick else ",".join(MODES))).split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    names = [n for n in args.cases.split(",") if n]
    missing = [n for n in names if n not in CASES]
    if unknown or missing:
        parser.error(f"unknown modes {unknown} / cases {missing}; cases: {', '.join(CASES)}")
    cases = [CASES[n] for n in names]
    local_cases = [c for c in cases if c.in_process]
    cold_cases = [c for c in cases if c.cold]
    restore_cases = [] if args.no_restore else [c for c in cases if "restore" in c.extras]
    # Cases needing a set-up (moto, temp files) only when something of theirs is measured.
    # A cold case with a set-up (moto for the deployed configuration) keeps it for its fresh processes.
    setup_cases = [
        c for c in cases if c.in_process or c in restore_cases or (c.cold and c.setup and not args.no_cold)
    ]

    started = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {msg}", flush=True)

    quiet()
    raise_file_limit()
    report: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "quick": quick,
            "rounds": rounds,
            "calls": calls,
            "warmup": warmup,
            "cold_runs": 0 if args.no_cold else cold_runs,
            "modes": [] if args.no_cold else modes,
            "restore_runs": restore_runs if restore_cases else 0,
            "restore_calls": restore_calls,
            "calls_per_round": {
                c.name: min(calls, c.max_calls) if c.max_calls else calls for c in local_cases
            },
        },
        "cases": [{"name": c.name, "module": c.module, "description": c.description} for c in cases],
    }
    outputs: list[str] = []
    with contextlib.ExitStack() as stack:
        if setup_cases:
            log("setting up (" + ", ".join(c.name for c in setup_cases if c.setup) + ")")
        for case in setup_cases:
            stack.enter_context(case.context())
        log("building handlers")
        handlers = {c.name: c.handler() for c in local_cases}
        default_heap()  # each batch sets its case's collector settings (Case.io)
        log("verifying every probe twice")
        samples, failures = verify(local_cases, handlers)
        report["samples"] = samples
        if failures:
            print("\nWRONG ANSWERS, nothing timed:\n  " + "\n  ".join(failures), file=sys.stderr)
            return 1
        warm_res: dict[str, Any] = {}
        if local_cases:
            log(f"warm: {rounds} rounds x {calls} calls per (case, probe), interleaved")
            warm_res = warm(local_cases, handlers, rounds, calls, warmup, log)
        outputs = output_notes(local_cases, warm_res)
        pairs = [c.name for c in local_cases if c.extras.get("paired_with") == "project"]
        paired_res: dict[str, Any] = {}
        if pairs and "project" in handlers:
            log(f"paired: project vs {', '.join(pairs)}, alternating call by call, {rounds} rounds x {calls} pairs")
            paired_res = paired(local_cases, handlers, rounds, calls, log)
        restore_res: dict[str, Any] = {}
        if restore_cases:
            log(f"restore: {restore_runs} fresh processes per case ({', '.join(c.name for c in restore_cases)})")
            restore_res = restore(restore_cases, restore_runs, restore_calls, log)
        cold_res: dict[str, Any] = {}
        if not args.no_cold and cold_cases:
            log(f"cold: {cold_runs} fresh processes per case and mode ({', '.join(modes)}), interleaved")
            cold_res = cold(cold_cases, cold_runs, modes, log)
    report["warm"] = warm_res
    report["cold"] = cold_res
    report["restore"] = restore_res
    ratios, ranges, targets, extra = summarize(warm_res, cold_res, restore_res, paired_res)
    goal_ratios, goal_targets = goals(warm_res, cold_res)  # issue 13's goals, from this same run
    ratios.update(goal_ratios)
    targets += goal_targets
    report["ratios"] = ratios
    report["ratio_ranges"] = ranges
    report["overheads"] = extra["overheads"]
    report["overheads_2026"] = extra["overheads_2026"]
    report["paired"] = paired_res
    report["targets"] = targets
    report["loadavg_at_end"] = loadavg()
    report["notes"] = outputs + notes_from(report, samples, cold_res, warm_res)
    report["elapsed_s"] = time.monotonic() - started

    publish(report, cases, warm_res, cold_res, restore_res, ratios, ranges, targets, extra, args.out, quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())

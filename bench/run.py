"""`make bench`: warm latency/throughput, cold starts and SnapStart restores, all cases alternating, one run.

    python -m bench.run [--quick] [--cases project,sdk,floor,...] [--rounds N] [--calls N]
                        [--cold-runs N] [--no-cold] [--restore-runs N] [--restore-calls N]
                        [--no-restore] [--out DIR]

1. verify: every probe of every in-process case is sent twice in a row and checked.
2. warm: in this process, rounds of `--calls` timed invocations of each (case, probe)
   (fewer for ms-scale cases: `Case.max_calls`), the order rotating every round;
   gc.collect() between rounds, never during. Then, for the access-control variants,
   A/B call by call against `project` (a small difference needs both at the same moment).
3. restore: fresh processes (`bench.snapstart`) per restore case: prime, simulated
   restore, the first request timed against the warm ones that follow.
4. cold: fresh processes (`bench.coldstart`), `--cold-runs` per case and bytecode mode,
   alternating cases and modes: import, first request(s), peak RSS.
5. report (`bench.report`): bench/results/latest.{json,md} (quick.{json,md} with --quick), the tables
   (handlers, item store, restore), the ratios against the SDK and the floor, what
   access control and observability add over `project`, and PASS/FAIL for the targets.

Exit status: 0 whatever the figures (it is a benchmark); 1 only if a case answers wrongly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import events
from bench import product as _product_cases  # noqa: F401 - registers the product's cases
from bench.cases import CASES, Case, default_heap
from bench.goals import goals
from bench.report import MODES, notes_from, output_notes, publish, summarize

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

# -- helpers ------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


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


def settle() -> None:
    """Let work a handler left on Mangum's loop finish now, outside any timing.

    The SDK app's per-request server task is still winding down when Mangum
    returns; it runs at the loop's next turn, i.e. inside the *next*
    invocation (as on Lambda). Between rounds that next invocation may be
    another case's, so the loop is turned here first.
    """
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    for _ in range(5):
        loop.run_until_complete(asyncio.sleep(0))


def pending_tasks() -> int:
    """Tasks left on Mangum's loop between invocations (the SDK app parks one by design)."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return 0
    return sum(1 for task in asyncio.all_tasks(loop) if not task.done())


# -- 1. verify ----------------------------------------------------------------


def verify(cases: Iterable[Case], handlers: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Every probe twice in a row; returns sample responses and the failures."""
    samples: dict[str, Any] = {}
    failures: list[str] = []
    context = events.FakeLambdaContext()
    for case in cases:
        handler = handlers[case.name]
        for name, probe in case.probes.items():
            leftover = 0
            for attempt in (1, 2):  # no settling in between: a warm Lambda call follows the last one as is
                before = pending_tasks()
                with case.io():
                    response = handler(probe.event(), context)
                leftover = max(leftover, pending_tasks() - before)
                problem = probe.check(response)
                if problem:
                    failures.append(f"{case.name} / {name} (attempt {attempt}): {problem}")
            status, message, ctype = events.response_message(response)
            samples[f"{case.name}/{name}"] = {
                "status": status,
                "content_type": ctype,
                "message": message,
                "leftover_tasks": leftover,
            }
            settle()
    return samples, failures


# -- 2. warm ------------------------------------------------------------------


def time_calls(handler: Any, batch: Sequence[dict[str, Any]]) -> tuple[list[int], int, int, list[Any], Any]:
    """One timed invocation per event of `batch`: per-call ns, the round's wall ns and CPU ns, the distinct
    status codes, and the last response (checked afterwards: a tool error is still HTTP 200).
    (`batch` repeats one event, or holds a fresh one per call, built beforehand.)

    CPU time (this process's) is taken per round, not per call: it excludes time
    the process spent preempted, so it stays meaningful on a busy machine.
    """
    context = events.FakeLambdaContext()
    calls = len(batch)
    samples = [0] * calls
    statuses = [0] * calls
    clock = time.perf_counter_ns
    cpu_start = time.process_time_ns()
    round_start = clock()
    response = None
    for i in range(calls):
        event = batch[i]
        t0 = clock()
        response = handler(event, context)
        samples[i] = clock() - t0
        statuses[i] = response["statusCode"]
    wall = clock() - round_start
    cpu = time.process_time_ns() - cpu_start
    return samples, wall, cpu, sorted(set(statuses)), response


def warm(
    cases: Sequence[Case], handlers: Mapping[str, Any], rounds: int, calls: int, warmup: int, log: Any
) -> dict[str, Any]:
    keys = [(case, probe) for case in cases for probe in case.warm]
    events_by_key = {(c.name, p): c.probes[p].event() for c, p in keys}
    checks = {(c.name, p): c.probes[p].check for c, p in keys}

    def batch(case: Case, probe: str, n: int) -> list[dict[str, Any]]:
        if case.probes[probe].fresh:  # e.g. a new idempotency key per call
            return [case.probes[probe].event() for _ in range(n)]
        return [events_by_key[(case.name, probe)]] * n

    def per_case(n: int, case: Case) -> int:
        return min(n, case.max_calls) if case.max_calls else n

    def after_batch(case: Case, calls: int) -> None:
        hook = case.extras.get("after_batch")  # housekeeping outside the timing (bench.product)
        if hook is not None:
            hook(calls)

    for case, probe in keys:  # warm-up: fill caches, let lazy things happen
        events_ = batch(case, probe, per_case(warmup, case))
        with case.io():
            time_calls(handlers[case.name], events_)
        settle()
        after_batch(case, len(events_))
    data: dict[tuple[str, str], dict[str, Any]] = {
        (c.name, p): {"samples": [], "wall_ns": 0, "cpu_ns": 0, "round_medians_us": [], "round_p99s_us": []}
        for c, p in keys
    }
    for r in range(rounds):
        shift = r % len(keys)
        order = keys[shift:] + keys[:shift]
        for case, probe in order:
            key = (case.name, probe)
            events_ = batch(case, probe, per_case(calls, case))
            gc.collect()
            with case.io():
                samples, wall, cpu, statuses, last = time_calls(handlers[case.name], events_)
            settle()
            after_batch(case, len(events_))
            if statuses != [200]:
                raise SystemExit(f"{case.name} / {probe}: non-200 statuses during timing: {statuses}")
            problem = checks[key](last)
            if problem:
                raise SystemExit(f"{case.name} / {probe} answered wrongly in round {r + 1}: {problem}")
            entry = data[key]
            entry["samples"].extend(samples)
            entry["wall_ns"] += wall
            entry["cpu_ns"] += cpu
            entry["round_medians_us"].append(statistics.median(samples) / 1000)
            entry["round_p99s_us"].append(percentile(sorted(samples), 99) / 1000)
        log(f"  warm round {r + 1}/{rounds} done")
    # One more checked call each: the timed answers were right.
    context = events.FakeLambdaContext()
    by_name = {case.name: case for case in cases}
    for key, check in checks.items():
        case = by_name[key[0]]
        with case.io():
            problem = check(handlers[key[0]](batch(case, key[1], 1)[0], context))
        if problem:
            raise SystemExit(f"{key[0]} / {key[1]} answered wrongly after timing: {problem}")
    out: dict[str, Any] = {}
    for (case_name, probe), entry in data.items():
        values = sorted(entry["samples"])
        n = len(values)
        round_medians = entry["round_medians_us"]
        med = statistics.median(values) / 1000
        out[f"{case_name}/{probe}"] = {
            "case": case_name,
            "probe": probe,
            "calls": n,
            "median_us": med,
            "mean_us": statistics.fmean(values) / 1000,
            "p90_us": percentile(values, 90) / 1000,
            "p99_us": percentile(values, 99) / 1000,
            "min_us": values[0] / 1000,
            "max_us": values[-1] / 1000,
            "p99_round_median_us": statistics.median(entry["round_p99s_us"]),
            "cpu_us_per_call": entry["cpu_ns"] / n / 1000,
            "throughput_per_s": n / (entry["wall_ns"] / 1e9),
            "round_medians_us": round_medians,
            "round_p99s_us": entry["round_p99s_us"],
            "round_spread_pct": 100 * (max(round_medians) - min(round_medians)) / med if med else None,
        }
    return out


def paired(
    cases: Sequence[Case], handlers: Mapping[str, Any], rounds: int, calls: int, log: Any, base: str = "project"
) -> dict[str, Any]:
    """A/B call by call: `base` and each case with `extras["paired_with"] == base`, alternating every call.

    The round-level comparison of `warm` sees each case at a different moment, so a
    ~10 µs difference drowns in the ±5 µs drift between rounds on a busy machine;
    alternating call by call exposes both handlers to the same moment. Per round: the
    difference of the two medians; reported: the median and range over rounds.
    Only for cases without an `around` (it would switch logging on for both).
    """
    if base not in handlers:
        return {}
    pairs = [c for c in cases if c.extras.get("paired_with") == base and c.around is None and c.name in handlers]
    out: dict[str, Any] = {}
    context = events.FakeLambdaContext()
    clock = time.perf_counter_ns
    for case in pairs:
        # Both handlers get the very same event, Authorization header included (the base
        # ignores it): the difference is the check itself, not parsing one more header.
        event_b = case.probes["call"].event()
        event_a = event_b
        handler_a, handler_b = handlers[base], handlers[case.name]
        diffs: list[float] = []
        medians_a: list[float] = []
        medians_b: list[float] = []
        for r in range(rounds):
            a = [0] * calls
            b = [0] * calls
            gc.collect()
            # Which one goes first alternates too.
            sides = ((handler_a, event_a, a), (handler_b, event_b, b))
            (h1, e1, out1), (h2, e2, out2) = sides[::-1] if r % 2 == 1 else sides
            for i in range(calls):
                t0 = clock()
                h1(e1, context)
                t1 = clock()
                h2(e2, context)
                t2 = clock()
                out1[i], out2[i] = t1 - t0, t2 - t1
            settle()
            med_a, med_b = statistics.median(a) / 1000, statistics.median(b) / 1000
            medians_a.append(med_a)
            medians_b.append(med_b)
            diffs.append(med_b - med_a)
        out[case.name] = {
            "base": base,
            "calls_per_round": calls,
            "rounds": rounds,
            "median_us": statistics.median(diffs),
            "range_us": [min(diffs), max(diffs)],
            "round_diffs_us": diffs,
            "base_median_us": statistics.median(medians_a),
            "case_median_us": statistics.median(medians_b),
        }
        log(f"  paired {base} / {case.name} done")
    return out


# -- 3. cold ------------------------------------------------------------------


def child_env(case: Case, prefix: Path, write_bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(case.env)
    return env


def run_child(module_args: Sequence[str], spec: Mapping[str, Any], env: Mapping[str, str], what: str) -> dict[str, Any]:
    """Run `python -m <module_args>` fed `spec` as JSON on stdin; its `BENCH_RESULT <json>` line, parsed."""
    proc = subprocess.run(
        [sys.executable, "-m", *module_args],
        input=json.dumps(spec).encode(),
        capture_output=True,
        cwd=ROOT,
        env=dict(env),
        timeout=180,
        check=False,
    )
    line = next(
        (ln for ln in proc.stdout.decode(errors="replace").splitlines() if ln.startswith("BENCH_RESULT ")), None
    )
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n" + proc.stderr.decode(errors="replace")[-3000:])
    return json.loads(line[len("BENCH_RESULT ") :])


def spawn(case: Case, prefix: Path, write_bytecode: bool) -> dict[str, Any]:
    spec = {"requests": [[name, case.probes[name].event()] for name in case.cold]}
    t0 = time.perf_counter_ns()
    result = run_child(
        ["bench.coldstart", case.module], spec, child_env(case, prefix, write_bytecode), f"cold start of {case.name}"
    )
    result["process_ms"] = (time.perf_counter_ns() - t0) / 1e6
    for step in result["steps"]:
        problem = case.probes[step["name"]].check(step["response"])
        if problem:
            raise SystemExit(f"cold start of {case.name}: {step['name']} answered wrongly: {problem}")
        del step["response"]
    return result


def cold(cases: Sequence[Case], runs: int, modes: Sequence[str], log: Any) -> dict[str, Any]:
    stdlib = Path(sysconfig.get_path("stdlib")).resolve()
    work = Path(tempfile.mkdtemp(prefix="mcp-bench-"))
    try:
        pyc_prefix = work / "pyc"  # a bench-owned bytecode cache: nothing written into the repo or site-packages
        for case in cases:  # populate it (and check each case cold-starts at all)
            spawn(case, pyc_prefix, write_bytecode=True)
        stdlib_cache = pyc_prefix / str(stdlib).lstrip(os.sep)
        raw: dict[str, dict[str, list[dict[str, Any]]]] = {c.name: {m: [] for m in modes} for c in cases}
        pairs = [(mode, case) for mode in modes for case in cases]
        for r in range(runs):
            shift = r % len(pairs)
            for mode, case in pairs[shift:] + pairs[:shift]:
                if mode == "pyc":
                    raw[case.name][mode].append(spawn(case, pyc_prefix, write_bytecode=True))
                    continue
                fresh = Path(tempfile.mkdtemp(dir=work, prefix=f"{mode}-"))
                if mode == "nopyc-deps" and stdlib_cache.is_dir():
                    shutil.copytree(stdlib_cache, fresh / str(stdlib).lstrip(os.sep))
                try:
                    raw[case.name][mode].append(spawn(case, fresh, write_bytecode=False))
                finally:
                    shutil.rmtree(fresh, ignore_errors=True)
            log(f"  cold run {r + 1}/{runs} done")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out: dict[str, Any] = {}
    for case in cases:
        for mode in modes:
            results = raw[case.name][mode]
            med = statistics.median
            step_names = [s["name"] for s in results[0]["steps"]]
            entry: dict[str, Any] = {
                "case": case.name,
                "mode": mode,
                "runs": len(results),
                "import_ms": med(r["import_ms"] for r in results),
                "steps_ms": {n: med(r["steps"][i]["ms"] for r in results) for i, n in enumerate(step_names)},
                "total_ms": med(r["import_ms"] + sum(s["ms"] for s in r["steps"]) for r in results),
                "totals_ms": [r["import_ms"] + sum(s["ms"] for s in r["steps"]) for r in results],
                "imports_ms": [r["import_ms"] for r in results],
                "process_ms": med(r["process_ms"] for r in results),
                "maxrss_mb": med(r["maxrss_mb"] for r in results),
                "modules_from_pyc": med(r["bytecode"]["from_pyc"] for r in results),
                "modules_compiled": med(r["bytecode"]["compiled"] for r in results),
                "raw": [
                    {k: v for k, v in r.items() if k in ("import_ms", "steps", "maxrss_mb", "process_ms", "bytecode")}
                    for r in results
                ],
            }
            out[f"{case.name}/{mode}"] = entry
    return out


# -- 3b. first request after a simulated SnapStart restore ----------------------

#: Inherited variables a restore child must not see: its spec says what the product reads.
_CONFIG_PREFIXES = ("AWS_", "MCP_", "ITEMS_", "POWERTOOLS_")


def restore_env(prefix: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_CONFIG_PREFIXES) and k not in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONPYCACHEPREFIX"] = str(prefix)  # bench-owned bytecode: nothing written into the repo
    return env


def spawn_restore(case: Case, spec: Mapping[str, Any], prefix: Path) -> dict[str, Any]:
    result = run_child(["bench.snapstart"], spec, restore_env(prefix), f"restore run of {case.name}")
    for name, response in result.pop("responses").items():
        problem = case.probes["call"].check(response)
        if problem:
            raise SystemExit(f"restore run of {case.name}: the {name} request answered wrongly: {problem}")
    return result


def restore(cases: Sequence[Case], runs: int, warm_calls: int, log: Any) -> dict[str, Any]:
    """Per case, `runs` fresh processes (cases alternating): prime, restore, first request, warm requests."""
    specs = {}
    for case in cases:
        spec = dict(case.extras["restore"]())
        spec["event"] = case.probes["call"].event()
        spec["warm_calls"] = warm_calls
        specs[case.name] = spec
    work = Path(tempfile.mkdtemp(prefix="mcp-bench-restore-"))
    raw: dict[str, list[dict[str, Any]]] = {c.name: [] for c in cases}
    try:
        for case in cases:  # untimed: fills the bytecode cache (a lazily imported module would be compiled
            spawn_restore(case, specs[case.name], work)  # during the first request otherwise)
        for r in range(runs):
            order = list(cases) if r % 2 == 0 else list(reversed(cases))
            for case in order:
                raw[case.name].append(spawn_restore(case, specs[case.name], work))
            log(f"  restore run {r + 1}/{runs} done")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    out: dict[str, Any] = {}
    for case in cases:
        results = raw[case.name]
        warm_medians = [med(r["warm_us"]) for r in results]
        ratios = [r["first_ms"] * 1000 / w for r, w in zip(results, warm_medians, strict=True)]
        again = [r["again_ms"] * 1000 / w for r, w in zip(results, warm_medians, strict=True)]
        pooled = sorted(x for r in results for x in r["warm_us"])
        out[case.name] = {
            "case": case.name,
            "runs": len(results),
            "warm_calls": warm_calls,
            "init_ms": med(r["init_ms"] for r in results),
            "prime_ms": med(r["prime_ms"] for r in results),
            "restore_hook_ms": med(r["restore_hook_ms"] for r in results),
            "first_ms": med(r["first_ms"] for r in results),
            "warm_median_us": med(warm_medians),
            "warm_p99_us": percentile(pooled, 99),
            "ratio": med(ratios),
            "ratio_range": [min(ratios), max(ratios)],
            "again_ms": med(r["again_ms"] for r in results),
            "again_ratio": med(again),
            "secret_caches": results[0]["secret_caches"],
            "ssm_fetches": results[0]["ssm_fetches"],
            "primed": results[0]["primed"],
            "raw": [{k: v for k, v in r.items() if k != "warm_us"} | {"warm_median_us": w}
                    for r, w in zip(results, warm_medians, strict=True)],
        }
    return out


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

"""`make bench`: warm latency/throughput and cold starts, all cases alternating, one run.

    python -m bench.run [--quick] [--cases project,sdk,floor] [--rounds N] [--calls N]
                        [--cold-runs N] [--no-cold] [--out DIR]

1. verify: every probe of every case is sent twice in a row and checked.
2. warm: in this process, rounds of `--calls` timed invocations of each (case, probe),
   the order rotating every round; gc.collect() between rounds, never during.
3. cold: fresh processes (`bench.coldstart`), `--cold-runs` per case and bytecode mode,
   alternating cases and modes: import, first request(s), peak RSS.
4. report: bench/results/latest.{json,md} (quick.{json,md} with --quick), a table,
   the ratios against the SDK and the floor, and PASS/FAIL for the targets.

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
from bench.cases import CASES, Case

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

#: Cold-start bytecode modes: name -> what it stands for.
MODES = {
    "pyc": "every module from cached bytecode (warmed once)",
    "nopyc": "nothing cached: every module, stdlib included, compiled from source",
    "nopyc-deps": "stdlib from bytecode, everything else compiled (a Lambda zip without __pycache__)",
}

#: The targets this project holds itself to (report only).
TARGETS = (
    ("project warm median <= 1/3 of sdk's", "warm_project_over_sdk", 1 / 3),
    ("project warm median <= 2.5x floor's", "warm_project_over_floor", 2.5),
    ("project cold total <= sdk's", "cold_project_over_sdk", 1.0),
)


# -- helpers ------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


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


def time_calls(handler: Any, event: dict[str, Any], calls: int) -> tuple[list[int], int, int, list[Any]]:
    """`calls` timed invocations: per-call ns, the round's wall ns and CPU ns, the distinct status codes.

    CPU time (this process's) is taken per round, not per call: it excludes time
    the process spent preempted, so it stays meaningful on a busy machine.
    """
    context = events.FakeLambdaContext()
    samples = [0] * calls
    statuses = [0] * calls
    clock = time.perf_counter_ns
    cpu_start = time.process_time_ns()
    round_start = clock()
    for i in range(calls):
        t0 = clock()
        response = handler(event, context)
        samples[i] = clock() - t0
        statuses[i] = response["statusCode"]
    wall = clock() - round_start
    cpu = time.process_time_ns() - cpu_start
    return samples, wall, cpu, sorted(set(statuses))


def warm(
    cases: Sequence[Case], handlers: Mapping[str, Any], rounds: int, calls: int, warmup: int, log: Any
) -> dict[str, Any]:
    keys = [(case, probe) for case in cases for probe in case.warm]
    events_by_key = {(c.name, p): c.probes[p].event() for c, p in keys}
    checks = {(c.name, p): c.probes[p].check for c, p in keys}
    for case, probe in keys:  # warm-up: fill caches, let lazy things happen
        time_calls(handlers[case.name], events_by_key[(case.name, probe)], warmup)
        settle()
    data: dict[tuple[str, str], dict[str, Any]] = {
        (c.name, p): {"samples": [], "wall_ns": 0, "cpu_ns": 0, "round_medians_us": [], "round_p99s_us": []}
        for c, p in keys
    }
    for r in range(rounds):
        shift = r % len(keys)
        order = keys[shift:] + keys[:shift]
        for case, probe in order:
            key = (case.name, probe)
            gc.collect()
            samples, wall, cpu, statuses = time_calls(handlers[case.name], events_by_key[key], calls)
            settle()
            if statuses != [200]:
                raise SystemExit(f"{case.name} / {probe}: non-200 statuses during timing: {statuses}")
            entry = data[key]
            entry["samples"].extend(samples)
            entry["wall_ns"] += wall
            entry["cpu_ns"] += cpu
            entry["round_medians_us"].append(statistics.median(samples) / 1000)
            entry["round_p99s_us"].append(percentile(sorted(samples), 99) / 1000)
        log(f"  warm round {r + 1}/{rounds} done")
    # One more checked call each: the timed answers were right.
    context = events.FakeLambdaContext()
    for key, check in checks.items():
        problem = check(handlers[key[0]](events_by_key[key], context))
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


# -- 3. cold ------------------------------------------------------------------


def child_env(case: Case, prefix: Path, write_bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(case.env)
    return env


def spawn(case: Case, prefix: Path, write_bytecode: bool) -> dict[str, Any]:
    spec = {"requests": [[name, case.probes[name].event()] for name in case.cold]}
    t0 = time.perf_counter_ns()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.coldstart", case.module],
        input=json.dumps(spec).encode(),
        capture_output=True,
        cwd=ROOT,
        env=child_env(case, prefix, write_bytecode),
        timeout=180,
        check=False,
    )
    process_ms = (time.perf_counter_ns() - t0) / 1e6
    line = next(
        (ln for ln in proc.stdout.decode(errors="replace").splitlines() if ln.startswith("BENCH_RESULT ")), None
    )
    if proc.returncode != 0 or line is None:
        raise SystemExit(
            f"cold start of {case.name} failed (exit {proc.returncode}):\n"
            + proc.stderr.decode(errors="replace")[-3000:]
        )
    result = json.loads(line[len("BENCH_RESULT ") :])
    result["process_ms"] = process_ms
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


# -- 4. report ----------------------------------------------------------------


def paired_range(a: Sequence[float] | None, b: Sequence[float] | None) -> list[float] | None:
    """[min, max] of a[i] / b[i]: rounds (warm) and runs (cold) alternate, so index i is one shared moment."""
    if not a or not b:
        return None
    values = [x / y for x, y in zip(a, b, strict=False) if y]
    return [min(values), max(values)] if values else None


def summarize(
    warm_res: Mapping[str, Any], cold_res: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[dict]]:
    def w(case: str, probe: str, key: str) -> float | None:
        entry = warm_res.get(f"{case}/{probe}")
        return entry[key] if entry else None

    def c(case: str, mode: str, key: str = "total_ms") -> float | None:
        entry = cold_res.get(f"{case}/{mode}")
        return entry[key] if entry else None

    ratios = {
        "warm_project_over_sdk": ratio(w("project", "call", "median_us"), w("sdk", "call", "median_us")),
        "warm_project_over_sdk_2026": ratio(
            w("project", "call_modern", "median_us"), w("sdk", "call_modern", "median_us")
        ),
        "warm_project_over_floor": ratio(w("project", "call", "median_us"), w("floor", "call", "median_us")),
        "p99_project_over_sdk": ratio(w("project", "call", "p99_us"), w("sdk", "call", "p99_us")),
        "p99_rounds_project_over_sdk": ratio(
            w("project", "call", "p99_round_median_us"), w("sdk", "call", "p99_round_median_us")
        ),
        "cpu_project_over_sdk": ratio(w("project", "call", "cpu_us_per_call"), w("sdk", "call", "cpu_us_per_call")),
        "cpu_project_over_floor": ratio(w("project", "call", "cpu_us_per_call"), w("floor", "call", "cpu_us_per_call")),
        "throughput_project_over_sdk": ratio(
            w("project", "call", "throughput_per_s"), w("sdk", "call", "throughput_per_s")
        ),
        "cold_project_over_sdk": ratio(c("project", "pyc"), c("sdk", "pyc")),
        "cold_nopyc_project_over_sdk": ratio(c("project", "nopyc"), c("sdk", "nopyc")),
        "import_project_over_sdk": ratio(c("project", "pyc", "import_ms"), c("sdk", "pyc", "import_ms")),
    }

    def rounds(case: str, probe: str) -> list[float] | None:
        entry = warm_res.get(f"{case}/{probe}")
        return entry["round_medians_us"] if entry else None

    def runs(case: str, mode: str, key: str = "totals_ms") -> list[float] | None:
        entry = cold_res.get(f"{case}/{mode}")
        return entry[key] if entry else None

    ranges = {
        "warm_project_over_sdk": paired_range(rounds("project", "call"), rounds("sdk", "call")),
        "warm_project_over_sdk_2026": paired_range(rounds("project", "call_modern"), rounds("sdk", "call_modern")),
        "warm_project_over_floor": paired_range(rounds("project", "call"), rounds("floor", "call")),
        "cold_project_over_sdk": paired_range(runs("project", "pyc"), runs("sdk", "pyc")),
        "cold_nopyc_project_over_sdk": paired_range(runs("project", "nopyc"), runs("sdk", "nopyc")),
        "import_project_over_sdk": paired_range(runs("project", "pyc", "imports_ms"), runs("sdk", "pyc", "imports_ms")),
    }
    targets = []
    for label, key, limit in TARGETS:
        value = ratios.get(key)
        targets.append(
            {
                "target": label,
                "ratio": value,
                "limit": limit,
                "pass": None if value is None else value <= limit,
                "range": ranges.get(key),
            }
        )
    return ratios, ranges, targets


def table_rows(cases: Sequence[Case], warm_res: Mapping[str, Any], cold_res: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for case in cases:
        cp = cold_res.get(f"{case.name}/pyc")
        steps = list(cp["steps_ms"].values()) if cp else []
        call = warm_res.get(f"{case.name}/call")
        modern = warm_res.get(f"{case.name}/call_modern")
        rows.append(
            [
                case.name,
                fmt(cp and cp["total_ms"]),
                fmt(cp and cp["import_ms"]),
                fmt(steps[0] if steps else None, 1),
                fmt(steps[1] if len(steps) > 1 else None, 1),
                fmt(cold_res.get(f"{case.name}/nopyc", {}).get("total_ms")),
                fmt(cold_res.get(f"{case.name}/nopyc-deps", {}).get("total_ms")),
                fmt(cp and cp["maxrss_mb"], 1),
                fmt(call and call["median_us"], 1),
                fmt(call and call["p99_us"], 1),
                fmt(call and call["cpu_us_per_call"], 1),
                fmt(call and call["throughput_per_s"]),
                fmt(call and call["round_spread_pct"]),
                fmt(modern and modern["median_us"], 1),
                fmt(modern and modern["p99_us"], 1),
            ]
        )
    return rows


HEADERS = [
    "case",
    "cold ms",
    "import ms",
    "init ms",
    "1st call ms",
    "cold nopyc",
    "cold nopyc-deps",
    "RSS MB",
    "warm med µs",
    "p99 µs",
    "CPU µs/call",
    "calls/s",
    "±% rounds",
    "2026 med µs",
    "2026 p99 µs",
]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(  # noqa: E731
        (c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])) for i, c in enumerate(cells)
    )
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def ratio_lines(
    ratios: Mapping[str, float | None], ranges: Mapping[str, Any], targets: Sequence[Mapping[str, Any]]
) -> list[str]:
    labels = {
        "warm_project_over_sdk": "warm median  project / sdk   (tools/call @2025-11-25)",
        "warm_project_over_sdk_2026": "warm median  project / sdk   (tools/call @2026-07-28)",
        "warm_project_over_floor": "warm median  project / floor",
        "p99_project_over_sdk": "warm p99     project / sdk   (all calls pooled)",
        "p99_rounds_project_over_sdk": "warm p99     project / sdk   (median of per-round p99s)",
        "cpu_project_over_sdk": "CPU/call     project / sdk",
        "cpu_project_over_floor": "CPU/call     project / floor",
        "throughput_project_over_sdk": "calls/s      project / sdk",
        "cold_project_over_sdk": "cold total   project / sdk   (bytecode)",
        "cold_nopyc_project_over_sdk": "cold total   project / sdk   (no bytecode)",
        "import_project_over_sdk": "import       project / sdk",
    }

    def span(key: str) -> str:
        r = ranges.get(key)
        return f"  (per round/run {r[0]:.2f}-{r[1]:.2f})" if r else ""

    lines = [f"  {labels[k]:<55} {fmt(v, 3):>7}{span(k)}" for k, v in ratios.items()]
    lines.append("")
    for t in targets:
        verdict = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        lines.append(f"  {verdict}  {t['target']:<40} ratio {fmt(t['ratio'], 3)} (limit {fmt(t['limit'], 3)})")
        r = t.get("range")
        if r and r[0] <= t["limit"] < r[1]:
            lines.append("        (within noise: the per-round/run ratios fall on both sides of the limit)")
    return lines


def markdown(report: Mapping[str, Any], rows: list[list[str]], lines: list[str]) -> str:
    m = report["machine"]
    parts = [
        "# Benchmark results",
        "",
        f"{m['date']} · Python {m['python']} · {m['platform']} · {m['cpu_count']} CPUs · "
        f"load at start/end {m['loadavg_at_start']} / {report['loadavg_at_end']} · mcp {m['packages'].get('mcp')}, "
        f"starlette {m['packages'].get('starlette')}, mangum {m['packages'].get('mangum')}",
        "",
        f"Warm: {report['settings']['rounds']} rounds × {report['settings']['calls']} calls per case, "
        "interleaved; through `handler(event, context)` with API Gateway HTTP API v2 events. "
        f"Cold: median of {report['settings']['cold_runs']} fresh processes per case and mode "
        "(import + initialize + first tools/call). Absolute numbers are noisy; quote the ratios.",
        "",
        md_table(HEADERS, rows),
        "",
        "Columns: cold ms = import + initialize + first tools/call (bytecode cached), with its parts; "
        "cold nopyc / nopyc-deps = the same without bytecode; RSS = peak RSS of the cold process; "
        "warm = tools/call add @2025-11-25 (median, pooled p99, process CPU time per call, throughput); "
        "±% rounds = spread of the per-round medians; 2026 = the same call @2026-07-28.",
        "",
        "Cold modes: " + "; ".join(f"`{k}` = {v}" for k, v in MODES.items()) + ".",
        "",
        "Cases: " + "; ".join(f"`{c['name']}` = {c['description']}" for c in report["cases"]) + ".",
        "",
        "## Ratios",
        "",
        "```",
        *lines,
        "```",
    ]
    if report.get("notes"):
        parts += ["", "## Notes", "", *(f"- {n}" for n in report["notes"])]
    return "\n".join(parts) + "\n"


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def notes_from(
    report: Mapping[str, Any], samples: Mapping[str, Any], cold_res: Mapping[str, Any], warm_res: Mapping[str, Any]
) -> list[str]:
    notes = []
    cpus = os.cpu_count() or 1
    loads = [x for x in (report["machine"]["loadavg_at_start"], report["loadavg_at_end"]) if x]
    if loads and max(load[0] for load in loads) >= 0.75 * cpus:
        notes.append(
            f"busy machine: 1-min load {', '.join(str(load[0]) for load in loads)} (start, end) on {cpus} CPUs; "
            "other processes preempt this one, which mostly shows in p99 and max. "
            "Medians, CPU µs/call and the ratios are the figures to quote."
        )
    # Differences in what the apps answer to the same request.
    for probe in ("initialize", "call", "call_modern"):
        shapes = {}
        for key, sample in samples.items():
            case, name = key.split("/", 1)
            if name == probe and sample["message"]:
                result = sample["message"].get("result") or {}
                shapes[case] = sorted(result.get("capabilities", result).keys())
        if len({tuple(v) for v in shapes.values()}) > 1:
            notes.append(
                f"{probe}: result keys differ: " + "; ".join(f"{c}: {', '.join(v)}" for c, v in shapes.items())
            )
    for key, sample in samples.items():
        if sample["leftover_tasks"] > 0:
            notes.append(
                f"{key}: {sample['leftover_tasks']} task(s) still pending on the loop when the handler returned "
                "(they run during the next invocation; the bench lets them finish between rounds)"
            )
    # Bytecode modes really differ.
    for key, entry in cold_res.items():
        if entry["mode"] == "pyc" and entry["modules_compiled"]:
            notes.append(f"{key}: {entry['modules_compiled']:.0f} modules compiled although bytecode was cached")
        if entry["mode"] == "nopyc" and entry["modules_from_pyc"]:
            notes.append(f"{key}: {entry['modules_from_pyc']:.0f} modules came from bytecode in the no-bytecode mode")
    for key, entry in warm_res.items():
        if entry["round_spread_pct"] and entry["round_spread_pct"] > 25:
            notes.append(f"{key}: round medians spread {entry['round_spread_pct']:.0f}% (noisy machine?)")
    return notes


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
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (2 if quick else 8)
    calls = args.calls or (50 if quick else 2000)
    warmup = args.warmup or (20 if quick else 500)
    cold_runs = args.cold_runs or (1 if quick else 9)
    modes = [m for m in (args.modes or ("pyc,nopyc" if quick else ",".join(MODES))).split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    names = [n for n in args.cases.split(",") if n]
    missing = [n for n in names if n not in CASES]
    if unknown or missing:
        parser.error(f"unknown modes {unknown} / cases {missing}; cases: {', '.join(CASES)}")
    cases = [CASES[n] for n in names]

    started = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {msg}", flush=True)

    quiet()
    report: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "quick": quick,
            "rounds": rounds,
            "calls": calls,
            "warmup": warmup,
            "cold_runs": 0 if args.no_cold else cold_runs,
            "modes": [] if args.no_cold else modes,
        },
        "cases": [{"name": c.name, "module": c.module, "description": c.description} for c in cases],
    }
    with contextlib.ExitStack() as stack:
        for case in cases:
            stack.enter_context(case.context())
        log("building handlers")
        handlers = {c.name: c.handler() for c in cases}
        log("verifying every probe twice")
        samples, failures = verify(cases, handlers)
        report["samples"] = samples
        if failures:
            print("\nWRONG ANSWERS, nothing timed:\n  " + "\n  ".join(failures), file=sys.stderr)
            return 1
        log(f"warm: {rounds} rounds x {calls} calls per (case, probe), interleaved")
        warm_res = warm(cases, handlers, rounds, calls, warmup, log)
    cold_res: dict[str, Any] = {}
    if not args.no_cold:
        log(f"cold: {cold_runs} fresh processes per case and mode ({', '.join(modes)}), interleaved")
        cold_res = cold(cases, cold_runs, modes, log)
    report["warm"] = warm_res
    report["cold"] = cold_res
    ratios, ranges, targets = summarize(warm_res, cold_res)
    report["ratios"] = ratios
    report["ratio_ranges"] = ranges
    report["targets"] = targets
    report["loadavg_at_end"] = loadavg()
    report["notes"] = notes_from(report, samples, cold_res, warm_res)
    report["elapsed_s"] = time.monotonic() - started

    rows = table_rows(cases, warm_res, cold_res)
    lines = ratio_lines(ratios, ranges, targets)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if quick else "latest"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(report, rows, lines))

    m = report["machine"]
    print()
    print(f"Python {m['python']} · {m['platform']} · {m['cpu_count']} CPUs · mcp {m['packages'].get('mcp')}")
    print(text_table(HEADERS, rows))
    print("\ncold ms = import + initialize + first tools/call, median of fresh processes (bytecode cached);")
    print("warm = tools/call add @2025-11-25 through handler(event, context); CPU µs/call = process CPU time per")
    print("call (immune to preemption); ±% rounds = spread of per-round medians; 2026 = same call @2026-07-28.\n")
    print("RATIOS")
    print("\n".join(lines))
    if report["notes"]:
        print("\nNOTES\n  " + "\n  ".join(report["notes"]))
    print(f"\nwrote {args.out / (stem + '.json')} and {stem}.md in {report['elapsed_s']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

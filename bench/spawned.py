"""The parts of `make bench` measured in fresh processes: cold starts and simulated SnapStart restores.

- `cold`: per case and bytecode mode, `python -m bench.coldstart <module>`: import, first request(s),
  peak RSS; cases and modes alternating.
- `restore`: per restore case, `python -m bench.snapstart`: prime, simulated restore, the first
  request timed against the warm ones that follow.

Each child reads its spec as JSON on stdin and prints one `BENCH_RESULT <json>` line (`run_child`).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.cases import Case
from bench.warm import percentile

ROOT = Path(__file__).resolve().parent.parent

# -- cold starts ---------------------------------------------------------------


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


# -- first request after a simulated SnapStart restore -------------------------

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

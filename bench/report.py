"""`make bench`, the figures: ratios, ranges, overheads, targets (PASS/FAIL) and notes from what `bench.run` measured.

`bench.run` measures (verify, warm, paired, restore, cold) and hands its results to
`summarize`, `output_notes` and `notes_from` here; `bench.tables` renders the tables and the
ratio lines, `bench.publish` writes and prints them. Nothing in this module times anything.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from bench.cases import Case

#: Cold-start bytecode modes: name -> what it stands for.
MODES = {
    "pyc": "every module from cached bytecode (warmed once)",
    "nopyc": "nothing cached: every module, stdlib included, compiled from source",
    "nopyc-deps": "stdlib from bytecode, everything else compiled (a Lambda zip without __pycache__)",
}

#: The targets this project holds itself to (report only): label, figure, limit, unit.
#: "x" figures are ratios (`summarize`'s ratios); "µs" figures are differences (its overheads).
TARGETS = (
    ("project warm median <= 1/3 of sdk's", "warm_project_over_sdk", 1 / 3, "x"),
    ("project warm median <= 2.5x floor's", "warm_project_over_floor", 2.5, "x"),
    ("project cold total <= sdk's", "cold_project_over_sdk", 1.0, "x"),
    ("cached auth check adds <= 10 µs (dev key)", "auth_us_project-auth", 10.0, "µs"),
    ("cached auth check adds <= 10 µs (key ring)", "auth_us_project-auth-ring", 10.0, "µs"),
    ("1st call after restore <= 3x warm (dev key)", "restore_ratio_restore", 3.0, "x"),
    ("1st call after restore <= 3x warm (SSM ring)", "restore_ratio_restore-ssm", 3.0, "x"),
    ("task creation <= 2x a plain tools/call (SQLite)", "task_create_over_call", 2.0, "x"),
)

#: Warm cases whose cost over `project` (same tools/call) is reported, in µs.
OVERHEADS = {
    "project-auth": "access control only, dev key",
    "project-auth-ring": "access control only, cached key ring",
    "product": "product, local config (auth + observability middleware, logging off)",
    "product-prod": "production config (auth + JSON access log + EMF)",
}


# -- helpers ------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


# -- figures ------------------------------------------------------------------


def paired_range(a: Sequence[float] | None, b: Sequence[float] | None) -> list[float] | None:
    """[min, max] of a[i] / b[i]: rounds (warm) and runs (cold) alternate, so index i is one shared moment."""
    if not a or not b:
        return None
    values = [x / y for x, y in zip(a, b, strict=False) if y]
    return [min(values), max(values)] if values else None


def overheads(warm_res: Mapping[str, Any], probe: str = "call") -> dict[str, Any]:
    """Each OVERHEADS case minus `project`, same probe: pooled medians, per-round medians (rounds interleave,
    so round i of both is one moment), CPU per call."""
    base = warm_res.get(f"project/{probe}")
    out: dict[str, Any] = {}
    if not base:
        return out
    for name, label in OVERHEADS.items():
        entry = warm_res.get(f"{name}/{probe}")
        if not entry:
            continue
        per_round = [a - b for a, b in zip(entry["round_medians_us"], base["round_medians_us"], strict=False)]
        out[name] = {
            "label": label,
            "probe": probe,
            "median_us": entry["median_us"] - base["median_us"],
            "round_median_us": statistics.median(per_round),
            "round_range_us": [min(per_round), max(per_round)],
            "cpu_us": entry["cpu_us_per_call"] - base["cpu_us_per_call"],
            "p99_round_median_us": entry["p99_round_median_us"] - base["p99_round_median_us"],
        }
    return out


def summarize(
    warm_res: Mapping[str, Any],
    cold_res: Mapping[str, Any],
    restore_res: Mapping[str, Any] | None = None,
    paired_res: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict], dict[str, Any]]:
    restore_res = restore_res or {}
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
        # The production configuration (auth + JSON access log + EMF).
        "warm_prod_over_floor": ratio(w("product-prod", "call", "median_us"), w("floor", "call", "median_us")),
        "warm_prod_over_sdk": ratio(w("product-prod", "call", "median_us"), w("sdk", "call", "median_us")),
        "warm_prod_over_sdk_2026": ratio(
            w("product-prod", "call_modern", "median_us"), w("sdk", "call_modern", "median_us")
        ),
        "p99_rounds_prod_over_sdk": ratio(
            w("product-prod", "call", "p99_round_median_us"), w("sdk", "call", "p99_round_median_us")
        ),
        "p99_rounds_prod_over_floor": ratio(
            w("product-prod", "call", "p99_round_median_us"), w("floor", "call", "p99_round_median_us")
        ),
        "warm_prod_over_project": ratio(w("product-prod", "call", "median_us"), w("project", "call", "median_us")),
        # MCP Tasks (bench.product, case tasks-sqlite): creation and a poll vs a plain tools/call, same store.
        "task_create_over_call": ratio(
            w("tasks-sqlite", "task_create", "median_us"), w("tasks-sqlite", "items_get", "median_us")
        ),
        "task_get_over_call": ratio(w("tasks-sqlite", "task_get", "median_us"), w("tasks-sqlite", "items_get", "median_us")),
        "task_create_over_write": ratio(
            w("tasks-sqlite", "task_create", "median_us"), w("tasks-sqlite", "items_add", "median_us")
        ),
    }
    for name, entry in restore_res.items():
        ratios[f"restore_ratio_{name}"] = entry["ratio"]

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
        "warm_prod_over_floor": paired_range(rounds("product-prod", "call"), rounds("floor", "call")),
        "warm_prod_over_sdk": paired_range(rounds("product-prod", "call"), rounds("sdk", "call")),
        "warm_prod_over_sdk_2026": paired_range(rounds("product-prod", "call_modern"), rounds("sdk", "call_modern")),
        "warm_prod_over_project": paired_range(rounds("product-prod", "call"), rounds("project", "call")),
        "task_create_over_call": paired_range(rounds("tasks-sqlite", "task_create"), rounds("tasks-sqlite", "items_get")),
        "task_get_over_call": paired_range(rounds("tasks-sqlite", "task_get"), rounds("tasks-sqlite", "items_get")),
        "task_create_over_write": paired_range(rounds("tasks-sqlite", "task_create"), rounds("tasks-sqlite", "items_add")),
    }
    for name, entry in restore_res.items():
        ranges[f"restore_ratio_{name}"] = entry["ratio_range"]
    extra = {
        "overheads": overheads(warm_res),
        "overheads_2026": overheads(warm_res, "call_modern"),
        "paired": dict(paired_res or {}),
    }
    figures = {
        **ratios,
        **{f"auth_us_{name}": entry["median_us"] for name, entry in extra["overheads"].items()},
    }
    spans = {
        **ranges,
        **{f"auth_us_{name}": entry["round_range_us"] for name, entry in extra["overheads"].items()},
    }
    targets = []
    for label, key, limit, unit in TARGETS:
        value = figures.get(key)
        targets.append(
            {
                "target": label,
                "value": value,
                "unit": unit,
                "ratio": value if unit == "x" else None,
                "limit": limit,
                "pass": None if value is None else value <= limit,
                "range": spans.get(key),
            }
        )
        name = key[len("auth_us_") :] if key.startswith("auth_us_") else None
        if name is not None and value is not None:
            # A ~10 µs limit against round medians that drift by ±10 µs between rounds: the
            # verdict uses the A/B (call by call) difference when measured, and shows both.
            o = extra["overheads"][name]
            targets[-1]["interleaved"] = {
                "median_us": o["median_us"],
                "round_median_us": o["round_median_us"],
                "round_range_us": o["round_range_us"],
            }
            targets[-1]["basis"] = "interleaved rounds: difference of the medians"
            if name in extra["paired"]:
                ab = extra["paired"][name]
                targets[-1].update(
                    value=ab["median_us"],
                    range=ab["range_us"],
                    basis="A/B call by call: median of the per-round differences",
                    **{"pass": ab["median_us"] <= limit},
                )
    return ratios, ranges, targets, extra


# -- notes --------------------------------------------------------------------


def output_notes(cases: Sequence[Case], warm_res: Mapping[str, Any]) -> list[str]:
    """What a case with counted output streams (the production config) wrote: proof it logged and emitted EMF;
    and what cases say about themselves (`extras["notes"]`)."""
    notes = []
    for case in cases:
        if case.extras.get("notes") is not None:
            notes += case.extras["notes"]()
        output = case.extras.get("output")
        if output is None or output.logs is None:
            continue
        timed = sum(warm_res[f"{case.name}/{p}"]["calls"] for p in case.warm if f"{case.name}/{p}" in warm_res)
        notes.append(
            f"{case.name}: wrote {output.logs.lines:,} JSON log lines ({output.logs.chars / max(output.logs.lines, 1):.0f}"
            f" chars each) and {output.stdout.lines:,} EMF lines to /dev/null over {timed:,} timed calls "
            "(plus verify and warm-up calls): one access line and one EMF document per invocation"
        )
    return notes


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

"""`make bench`, the reporting half: ratios, targets, tables, markdown and JSON from what `bench.run` measured.

`bench.run` measures (verify, warm, paired, restore, cold) and hands its results to
`summarize` and `publish` here; nothing in this module times anything.
"""

from __future__ import annotations

import json
import os
import statistics
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
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


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


# -- 4. report ----------------------------------------------------------------


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


def table_rows(cases: Sequence[Case], warm_res: Mapping[str, Any], cold_res: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for case in cases:
        if not case.cold and "call" not in case.warm:
            continue  # measured elsewhere (item store, restore tables)
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
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(  # noqa: E731
        (c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])) for i, c in enumerate(cells)
    )
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def ratio_lines(
    ratios: Mapping[str, float | None],
    ranges: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
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
        "task_create_over_call": "warm median  task creation / tools/call items_get (SQLite)",
        "task_get_over_call": "warm median  tasks/get / tools/call items_get (SQLite)",
        "task_create_over_write": "warm median  task creation / tools/call items_add (SQLite)",
    }
    #: Printed only when measured (they need cases a --cases selection may leave out).
    optional = {
        "warm_prod_over_floor": "warm median  prod / floor",
        "warm_prod_over_sdk": "warm median  prod / sdk      (tools/call @2025-11-25)",
        "warm_prod_over_sdk_2026": "warm median  prod / sdk      (tools/call @2026-07-28)",
        "p99_rounds_prod_over_sdk": "warm p99     prod / sdk      (median of per-round p99s)",
        "p99_rounds_prod_over_floor": "warm p99     prod / floor    (median of per-round p99s)",
        "warm_prod_over_project": "warm median  prod / project",
    }

    def span(key: str) -> str:
        r = ranges.get(key)
        return f"  (per round/run {r[0]:.2f}-{r[1]:.2f})" if r else ""

    lines = [f"  {labels[k]:<55} {fmt(v, 3):>7}{span(k)}" for k, v in ratios.items() if k in labels]
    prod = [(k, ratios.get(k)) for k in optional if ratios.get(k) is not None]
    if prod:
        lines += ["", "  prod = project, production config: auth + JSON access log + EMF (case product-prod)"]
        lines += [f"  {optional[k]:<55} {fmt(v, 3):>7}{span(k)}" for k, v in prod]
    for key, probe_label in (("overheads", "@2025-11-25"), ("overheads_2026", "@2026-07-28")):
        found = (extra or {}).get(key) or {}
        if not found:
            continue
        lines += [
            "",
            f"  added to a warm tools/call {probe_label} over `project` (µs; per-round = median and range of the",
            "  round-by-round differences, rounds interleaved; CPU = process CPU time per call)",
        ]
        for name, o in found.items():
            lines.append(
                f"  {name:<18} median {o['median_us']:+7.1f}   per-round {o['round_median_us']:+7.1f} "
                f"({o['round_range_us'][0]:+.1f} to {o['round_range_us'][1]:+.1f})   CPU {o['cpu_us']:+7.1f}"
                f"   p99 {o['p99_round_median_us']:+8.1f}   {o['label']}"
            )
    found = (extra or {}).get("paired") or {}
    if found:
        lines += [
            "",
            "  the same, A/B call by call (project and the case alternating every call; per round the difference",
            "  of the two medians; median and range over rounds): the tighter estimate of a small difference",
        ]
        for name, o in found.items():
            lines.append(
                f"  {name:<18} median {o['median_us']:+7.1f}   per-round range {o['range_us'][0]:+.1f} to "
                f"{o['range_us'][1]:+.1f}   ({o['rounds']} rounds x {o['calls_per_round']} pairs; "
                f"project {o['base_median_us']:.1f} µs, {name} {o['case_median_us']:.1f} µs)"
            )
    lines.append("")
    for t in targets:
        verdict = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        if t.get("unit", "x") == "µs":
            basis = " A/B" if t.get("basis", "").startswith("A/B") else ""
            value = f"{t['value']:+.1f}" if t["value"] is not None else "-"
            figure = f"{value} µs{basis} (limit {fmt(t['limit'], 0)} µs)"
        else:
            figure = f"ratio {fmt(t['value'], 3)} (limit {fmt(t['limit'], 3)})"
        lines.append(f"  {verdict}  {t['target']:<46} {figure}")
        r = t.get("range")
        if r and r[0] <= t["limit"] < r[1]:
            what = "differences" if t.get("unit") == "µs" else "ratios"
            lines.append(f"        (within noise: the per-round/run {what} fall on both sides of the limit)")
        i = t.get("interleaved")
        if i and t.get("basis", "").startswith("A/B"):
            lines.append(
                f"        (A/B rounds {r[0]:+.1f} to {r[1]:+.1f}; interleaved rounds: median {i['median_us']:+.1f}, "
                f"per-round {i['round_median_us']:+.1f} ({i['round_range_us'][0]:+.1f} to {i['round_range_us'][1]:+.1f}))"
            )
    return lines


ITEM_HEADERS = ["backend", "op", "calls", "median µs", "p99 µs", "p99 µs (round med)", "CPU µs/call", "calls/s", "±% rounds"]


def item_rows(cases: Sequence[Case], warm_res: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for case in cases:
        if case.extras.get("kind") != "items":
            continue
        for probe in case.warm:
            entry = warm_res.get(f"{case.name}/{probe}")
            if not entry:
                continue
            rows.append(
                [
                    case.extras["backend"],
                    probe,
                    str(entry["calls"]),
                    fmt(entry["median_us"]),
                    fmt(entry["p99_us"]),
                    fmt(entry["p99_round_median_us"]),
                    fmt(entry["cpu_us_per_call"]),
                    fmt(entry["throughput_per_s"]),
                    fmt(entry["round_spread_pct"]),
                ]
            )
    return rows


RESTORE_HEADERS = [
    "variant",
    "runs",
    "init ms",
    "priming ms",
    "1st call ms",
    "warm med µs",
    "warm p99 µs",
    "1st / warm",
    "per run",
    "after 2nd restore ms",
    "SSM fetches 1st call",
]


def restore_rows(restore_res: Mapping[str, Any]) -> list[list[str]]:
    return [
        [
            name,
            str(r["runs"]),
            fmt(r["init_ms"]),
            fmt(r["prime_ms"], 1),
            fmt(r["first_ms"], 3),
            fmt(r["warm_median_us"], 1),
            fmt(r["warm_p99_us"], 1),
            fmt(r["ratio"], 2),
            f"{r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}",
            f"{r['again_ms']:.3f} ({r['again_ratio']:.2f}x)",
            str(r["ssm_fetches"]["first"]),
        ]
        for name, r in restore_res.items()
    ]


RESTORE_NOTE = (
    "restore: in a fresh process per run, build_product(...).lambda_build() + settle_heap() (observability as on Lambda), "
    "before_snapshot() (priming), after_restore(), then the FIRST tools/call through the handler, timed, vs "
    "the median of the warm calls that follow in the same process (1st / warm: median over runs of each run's "
    "ratio). after_restore() invalidates the secret "
    "caches (API key ring, requestState keys, JWKS): with the local dev key there is none, so nothing is "
    "fetched; with the key ring in SSM (restore-ssm) the first call includes one GetParameter, here to moto "
    "on 127.0.0.1 (in AWS: an SSM round trip). 'after 2nd restore' = after_restore() once more in the same "
    "process and one call: the same refetch with the SSM client's first-use costs already paid."
)


def markdown(
    report: Mapping[str, Any],
    rows: list[list[str]],
    lines: list[str],
    items: list[list[str]] | None = None,
    restores: list[list[str]] | None = None,
) -> str:
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
    ]
    if items:
        parts += [
            "## Item store through the Lambda handler",
            "",
            md_table(ITEM_HEADERS, items),
            "",
            "calls = timed calls over all rounds (fewer per round than the other cases: "
            + ", ".join(f"{k} {v}" for k, v in report["settings"]["calls_per_round"].items() if k.startswith("items-"))
            + "). DynamoDB is moto on 127.0.0.1 in its own process: its latency is an emulator's on loopback, "
            "not DynamoDB's; the figures bound the app's share. Adds without an idempotency key write one item "
            "(a conditional put); with a fresh key, the item and its idempotency record in one transaction.",
            "",
        ]
    if restores:
        parts += ["## First request after a simulated SnapStart restore", "", md_table(RESTORE_HEADERS, restores), ""]
        parts += [RESTORE_NOTE, ""]
    parts += [
        "## Ratios",
        "",
        "```",
        *lines,
        "```",
    ]
    if report.get("notes"):
        parts += ["", "## Notes", "", *(f"- {n}" for n in report["notes"])]
    return "\n".join(parts) + "\n"


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


def publish(
    report: dict[str, Any],
    cases: Sequence[Case],
    warm_res: Mapping[str, Any],
    cold_res: Mapping[str, Any],
    restore_res: Mapping[str, Any],
    ratios: Mapping[str, float | None],
    ranges: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
    extra: Mapping[str, Any],
    out: Path,
    quick: bool,
) -> None:
    """Write <out>/{latest,quick}.{json,md} and print the tables, ratios and notes."""
    rows = table_rows(cases, warm_res, cold_res)
    items = item_rows(cases, warm_res)
    restores = restore_rows(restore_res)
    lines = ratio_lines(ratios, ranges, targets, extra)
    out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if quick else "latest"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / f"{stem}.md").write_text(markdown(report, rows, lines, items, restores))

    m = report["machine"]
    print()
    print(f"Python {m['python']} · {m['platform']} · {m['cpu_count']} CPUs · mcp {m['packages'].get('mcp')}")
    print(text_table(HEADERS, rows))
    print("\ncold ms = import + initialize + first tools/call, median of fresh processes (bytecode cached);")
    print("warm = tools/call add @2025-11-25 through handler(event, context); CPU µs/call = process CPU time per")
    print("call (immune to preemption); ±% rounds = spread of per-round medians; 2026 = same call @2026-07-28.")
    print("Cases without cold columns are measured warm only (they are variants of the project handler).\n")
    if items:
        print("ITEM STORE through the product's Lambda handler (tools/call; calls = all rounds)")
        print(text_table(ITEM_HEADERS, items))
        print()
    if restores:
        print("FIRST REQUEST AFTER A SIMULATED SNAPSTART RESTORE (production config)")
        print(text_table(RESTORE_HEADERS, restores))
        print("\n".join(textwrap.wrap(RESTORE_NOTE, 110, initial_indent="  ", subsequent_indent="  ")))
        print()
    print("RATIOS")
    print("\n".join(lines))
    if report["notes"]:
        print("\nNOTES\n  " + "\n  ".join(report["notes"]))
    print(f"\nwrote {out / (stem + '.json')} and {stem}.md in {report['elapsed_s']:.0f}s")

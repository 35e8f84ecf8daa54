"""`make bench`, the rendering: the tables (handlers, item store, restore), the ratio lines and the markdown page.

Text tables for the terminal, markdown tables and the whole `latest.md` / `quick.md` page, from the
results and the figures of `bench.report`. `bench.publish` writes and prints what these return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.cases import Case
from bench.report import MODES


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


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

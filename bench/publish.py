"""`make bench`, the output: writes <out>/{latest,quick}.{json,md} and prints the tables, ratios and notes.

The rendering is `bench.tables`'s; the figures are `bench.report`'s.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.cases import Case
from bench.tables import (
    HEADERS,
    ITEM_HEADERS,
    RESTORE_HEADERS,
    RESTORE_NOTE,
    item_rows,
    markdown,
    ratio_lines,
    restore_rows,
    table_rows,
    text_table,
)


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

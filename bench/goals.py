"""Issue 13's goals, each a ratio from one run, for the product configuration and the transport alone.

`bench.run` adds these to the report's targets (PASS/FAIL lines, JSON, markdown) and ratios.
Cases: `project` (the transport alone: the public factory, add/echo), `product-prod` (the product's
production configuration, warm), `product-deployed` (the product as deployed, cold and peak RSS),
beside `sdk` (the SDK's stateless app, async tools) and `floor` (Starlette route + Mangum).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Who is measured warm / cold under which name in the goal lines.
WARM = {"transport": "project", "product": "product-prod"}
COLD = {"transport": "project", "product": "product-deployed"}
ERAS = {"2025": "call", "2026": "call_modern"}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def goals(warm_res: Mapping[str, Any], cold_res: Mapping[str, Any]) -> tuple[dict[str, float | None], list[dict]]:
    """(ratios by key, target entries shaped like `bench.report.summarize`'s)."""

    def w(case: str, probe: str, key: str = "median_us") -> float | None:
        entry = warm_res.get(f"{case}/{probe}")
        return entry[key] if entry else None

    def c(case: str, key: str) -> float | None:
        entry = cold_res.get(f"{case}/pyc")
        return entry[key] if entry else None

    rows: list[tuple[str, str, float | None, float]] = []
    for who, case in WARM.items():
        rows.append(
            (f"goal_warm_2026_{who}_over_sdk", f"{who}: warm 2026 <= 1/3 of sdk's",
             _ratio(w(case, "call_modern"), w("sdk", "call_modern")), 1 / 3)
        )
        for era, probe in ERAS.items():
            rows.append(
                (f"goal_warm_{era}_{who}_over_floor", f"{who}: warm {era} <= 2.5x floor's",
                 _ratio(w(case, probe), w("floor", probe)), 2.5)
            )
        for era, probe in ERAS.items():
            rows.append(
                (f"goal_p99_{era}_{who}_over_median", f"{who}: p99 {era} <= 3x own median",
                 _ratio(w(case, probe, "p99_us"), w(case, probe)), 3.0)
            )
    rows.append(("goal_cold_product_over_sdk", "product (deployed): cold <= sdk's",
                 _ratio(c(COLD["product"], "total_ms"), c("sdk", "total_ms")), 1.0))
    rows.append(("goal_cold_transport_over_sdk", "transport: cold <= 0.9x sdk's",
                 _ratio(c(COLD["transport"], "total_ms"), c("sdk", "total_ms")), 0.9))
    rows.append(("goal_rss_product_over_sdk", "product (deployed): peak RSS <= sdk's",
                 _ratio(c(COLD["product"], "maxrss_mb"), c("sdk", "maxrss_mb")), 1.0))
    rows.append(("goal_rss_transport_over_sdk", "transport: peak RSS <= sdk's (not a goal; for scale)",
                 _ratio(c(COLD["transport"], "maxrss_mb"), c("sdk", "maxrss_mb")), 1.0))
    ratios = {key: value for key, _, value, _ in rows}
    targets = [
        {
            "target": label,
            "value": value,
            "unit": "x",
            "ratio": value,
            "limit": limit,
            "pass": None if value is None else value <= limit,
            "range": None,
            "issue": 13,
        }
        for _, label, value, limit in rows
    ]
    return ratios, targets

"""The in-process parts of `make bench`: verify every probe, time warm rounds, and A/B pairs.

1. `verify`: every probe of every in-process case sent twice in a row and checked.
2. `warm`: rounds of timed invocations of each (case, probe), the order rotating every round,
   gc.collect() between rounds, never during; `paired`: access-control variants against `project`,
   call by call.

Also the loop hygiene between batches (`settle`, `pending_tasks`) and `percentile` (which
`bench.spawned` uses too). `bench.run` calls these; nothing here spawns a process.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bench import events
from bench.cases import Case

# -- helpers ------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


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
        hook = case.extras.get("after_batch")  # housekeeping outside the timing (bench.product_items)
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

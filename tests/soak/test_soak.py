"""The warm soak, short (issue 19): the shipped handler must not grow once warm.

`make soak` runs 20,000 calls per configuration and phase (minutes, mostly moto's);
this variant runs fewer, against the same bounds scaled to its length, which the
growth found in issue 19 exceeded several times over at any length (rich rendering
each log line: ~110 B a call held; pydantic-core's string cache: ~25 B a call).
"""

from __future__ import annotations

import pytest

from tests.soak.run import soak

#: (config, warm-up, RSS calls, traced calls); 500 traced calls more settle before tracemalloc counts.
RUNS = [("local", 2000, 6000, 4000), ("deployed", 1000, 1500, 1500)]


@pytest.mark.parametrize(("config", "warmup", "calls", "traced_calls"), RUNS, ids=[run[0] for run in RUNS])
def test_the_warm_handler_does_not_grow(config: str, warmup: int, calls: int, traced_calls: int) -> None:
    result = soak(config, calls=calls, warmup=warmup, traced_calls=traced_calls, traced_settle=500)
    print(result.summary())
    problems = result.failures()
    # Where it grows: python -m tests.soak.run --config <config> --calls <calls> --top 10 (tracebacks; slower).
    assert not problems, "\n".join([result.summary(), *problems])

"""The official MCP conformance suite, both harnesses, on uvicorn and through the Lambda handler.

Each case starts the fixture server (tests/fixtures/everything.py, built only
with the public factories) in its own process on 127.0.0.1 and runs one
harness against it. Baselines: tests/conformance/expected-failures.*.yml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.run import NODE, ROOT, RUNS, RUNTIMES, baseline, run_one


@pytest.fixture(scope="module")
def out_dir() -> Path:
    if not NODE.exists():
        pytest.fail("Node 22 and the harnesses are missing: run `make test` (it installs tests/js/node_modules)")
    path = ROOT / "results" / "conformance"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("runtime", list(RUNTIMES))
@pytest.mark.parametrize("run", RUNS, ids=[r.name for r in RUNS])
def test_conformance(out_dir: Path, runtime: str, run: object) -> None:
    outcome = run_one(runtime, run, out_dir)  # type: ignore[arg-type]
    print(f"{runtime} {outcome.run.name}: Total: {outcome.passed} passed, {outcome.failed} failed")
    assert outcome.failed >= 0, f"harness printed no totals; see {outcome.log}"
    assert outcome.passed > 0
    assert outcome.unexpected == [], f"unexpected failing scenarios {outcome.unexpected}; see {outcome.log}"
    assert outcome.stale == [], f"baseline entries that now pass (remove them): {outcome.stale}"
    # Only the by-construction exclusions may fail, so every failing check belongs to them.
    assert outcome.failed <= len(baseline(outcome.run.baseline))

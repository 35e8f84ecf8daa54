"""`make bench` still runs: a quick pass over every case (a benchmark, so nothing here asserts a time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_run_answers_correctly(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--no-cold", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "quick.json").read_text())
    text = json.dumps(results)
    for case in ("project", "sdk", "floor", "project-auth", "product-prod", "restore"):
        assert f'"{case}' in text, case

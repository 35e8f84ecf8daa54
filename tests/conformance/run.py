"""`make conformance`: the official MCP conformance harnesses against the fixture server.

Runs, each against a freshly started fixture on 127.0.0.1:
- the stable harness (0.1.16, handshake era, TypeScript SDK client);
- the alpha harness (0.2.0-alpha.12) at 2025-11-25 and at 2026-07-28;
on two runtimes: uvicorn (the ASGI app, as `make run` serves it) and the
Lambda handler behind a loopback bridge (the exact API Gateway code path).
Prints each run's totals; exits non-zero if any run has an unexpected failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "js"
NODE = JS / "node_modules" / ".bin" / "node"
HERE = Path(__file__).resolve().parent
STABLE = JS / "node_modules" / "conformance-stable" / "dist" / "index.js"
ALPHA = JS / "node_modules" / "conformance-alpha" / "dist" / "index.js"
HANDSHAKE_BASELINE = HERE / "expected-failures.handshake.yml"
MODERN_BASELINE = HERE / "expected-failures.modern.yml"
TASKS_BASELINE = HERE / "expected-failures.tasks.yml"
TOTAL = re.compile(r"^Total: (\d+) passed, (\d+) failed", re.MULTILINE)
#: One scenario run (`--scenario`) prints "Passed: 9/9, 0 failed" instead of a Total line.
SCENARIO_TOTAL = re.compile(r"^Passed: (\d+)/\d+, (\d+) failed", re.MULTILINE)
#: The Tasks extension's scenarios (SEP-2663): outside `--suite all`, run one by one at 2026-07-28.
TASK_SCENARIOS = (
    "tasks-lifecycle",
    "tasks-capability-negotiation",
    "tasks-wire-fields",
    "tasks-request-state-removal",
    "tasks-mrtr-input",
    "tasks-request-headers",
    "tasks-dispatch-and-envelope",
    "tasks-status-notifications",
    "tasks-required-task-error",
    "tasks-mrtr-composition",
)


@dataclass(frozen=True)
class Run:
    name: str
    harness: Path
    spec_version: str | None
    baseline: Path
    #: Run these scenarios one by one (`--scenario NAME --force`) instead of `--suite all`.
    scenarios: tuple[str, ...] = ()


RUNS = (
    Run("stable 0.1.16 (2025-11-25)", STABLE, None, HANDSHAKE_BASELINE),
    Run("alpha.12 at 2025-11-25", ALPHA, "2025-11-25", HANDSHAKE_BASELINE),
    Run("alpha.12 at 2026-07-28", ALPHA, "2026-07-28", MODERN_BASELINE),
    Run("alpha.12 tasks-* 2026-07-28", ALPHA, "2026-07-28", TASKS_BASELINE, TASK_SCENARIOS),
)
RUNTIMES = {
    "uvicorn": [sys.executable, "-m", "tests.fixtures.everything", "--port"],
    "lambda": [sys.executable, "-m", "tests.conformance.lambda_bridge", "--fixture", "--port"],
}
#: Behind the Lambda bridge, task runs go through the worker's Lambda handler, fed the exact
#: asynchronous event the API function sends (tests/fixtures/task_tools.py).
RUNTIME_ENV = {"lambda": {"FIXTURE_TASKS_DISPATCH": "lambda-event"}}


@dataclass
class Outcome:
    runtime: str
    run: Run
    passed: int
    failed: int
    unexpected: list[str]
    stale: list[str]
    log: Path

    @property
    def ok(self) -> bool:
        return self.failed >= 0 and not self.unexpected and not self.stale


def baseline(path: Path) -> set[str]:
    """Scenario names under `server:` in an expected-failures YAML (a flat list; no YAML library needed)."""
    names: set[str] = set()
    in_server = False
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line.startswith(" "):
            in_server = line.startswith("server:")
        elif in_server and line.strip().startswith("- "):
            names.add(line.strip()[2:].strip())
    return names


def failing_scenarios(results: Path) -> tuple[set[str], set[str]]:
    """(scenarios with a FAILURE check, all scenarios seen), read from each scenario's checks.json.

    The harness's own exit code also fails scenarios that only *warn* (here:
    no session id, by construction); warnings are not failures, so the
    verdict is taken from the checks themselves.
    """
    failing: set[str] = set()
    seen: set[str] = set()
    for checks in results.glob("*/checks.json"):
        scenario = re.sub(r"^server-|-\d{4}-\d{2}-\d{2}T.*$", "", checks.parent.name)
        seen.add(scenario)
        if any(check.get("status") == "FAILURE" for check in json.loads(checks.read_text())):
            failing.add(scenario)
    return failing, seen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"fixture server exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("fixture server did not start listening")


def run_one(runtime: str, run: Run, out_dir: Path) -> Outcome:
    port = _free_port()
    proc = subprocess.Popen([*RUNTIMES[runtime], str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **RUNTIME_ENV.get(runtime, {})})
    try:
        _wait_listening(port, proc)
        slug = re.sub(r"[^a-z0-9]+", "-", f"{runtime} {run.name}".lower()).strip("-")
        results = out_dir / slug
        shutil.rmtree(results, ignore_errors=True)  # checks.json of an earlier run must not count
        base = [str(NODE), str(run.harness), "server", "--url", f"http://127.0.0.1:{port}/mcp",
                "--expected-failures", str(run.baseline), "-o", str(results)]
        if run.spec_version:
            base += ["--spec-version", run.spec_version]
        log = out_dir / f"{slug}.log"
        selections = [["--scenario", name, "--force"] for name in run.scenarios] or [["--suite", "all"]]
        passed, failed = 0, 0
        with log.open("wb") as sink:
            for selection in selections:
                start = sink.tell()
                subprocess.run([*base, *selection], cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, timeout=900,
                               env={**os.environ, "NO_COLOR": "1"})
                sink.flush()
                text = log.read_bytes()[start:].decode(errors="replace")
                match = (SCENARIO_TOTAL if run.scenarios else TOTAL).search(text)
                if match is None:
                    failed = -1
                elif failed >= 0:
                    passed, failed = passed + int(match[1]), failed + int(match[2])
        failing, seen = failing_scenarios(results)
        expected = baseline(run.baseline)
        return Outcome(runtime, run, passed, failed, sorted(failing - expected), sorted((expected & seen) - failing), log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    out_dir = ROOT / "results" / "conformance"
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [run_one(runtime, run, out_dir) for runtime in RUNTIMES for run in RUNS]
    print(f"{'runtime':8} {'harness':28} {'passed':>6} {'failed':>6}  verdict")
    for o in outcomes:
        if o.ok:
            verdict = "ok" + (f" (expected: {len(baseline(o.run.baseline))} scenarios in the baseline)" if o.failed else "")
        else:
            verdict = f"UNEXPECTED failing={o.unexpected} stale-baseline={o.stale} (see {o.log.relative_to(ROOT)})"
        print(f"{o.runtime:8} {o.run.name:28} {o.passed:>6} {o.failed:>6}  {verdict}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

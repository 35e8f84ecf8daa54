"""`make conformance`: the official MCP conformance harnesses against the fixture server.

Runs, each against a freshly started fixture on 127.0.0.1:
- the stable harness (0.1.16, handshake era, TypeScript SDK client);
- the alpha harness (0.2.0-alpha.12) at 2025-11-25 and at 2026-07-28;
on two runtimes: uvicorn (the ASGI app, as `make run` serves it) and the
Lambda handler behind a loopback bridge (the exact API Gateway code path).
Prints each run's totals; exits non-zero if any run has an unexpected failure.
"""

from __future__ import annotations

import os
import re
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
TOTAL = re.compile(r"^Total: (\d+) passed, (\d+) failed", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    name: str
    harness: Path
    spec_version: str | None
    baseline: Path


RUNS = (
    Run("stable 0.1.16 (2025-11-25)", STABLE, None, HANDSHAKE_BASELINE),
    Run("alpha.12 at 2025-11-25", ALPHA, "2025-11-25", HANDSHAKE_BASELINE),
    Run("alpha.12 at 2026-07-28", ALPHA, "2026-07-28", MODERN_BASELINE),
)
RUNTIMES = {
    "uvicorn": [sys.executable, "-m", "tests.fixtures.everything", "--port"],
    "lambda": [sys.executable, "-m", "tests.conformance.lambda_bridge", "--fixture", "--port"],
}


@dataclass
class Outcome:
    runtime: str
    run: Run
    passed: int
    failed: int
    exit_code: int
    log: Path


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
    proc = subprocess.Popen([*RUNTIMES[runtime], str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, proc)
        slug = re.sub(r"[^a-z0-9]+", "-", f"{runtime} {run.name}".lower()).strip("-")
        results = out_dir / slug
        cmd = [str(NODE), str(run.harness), "server", "--url", f"http://127.0.0.1:{port}/mcp", "--suite", "all",
               "--expected-failures", str(run.baseline), "-o", str(results)]
        if run.spec_version:
            cmd += ["--spec-version", run.spec_version]
        log = out_dir / f"{slug}.log"
        with log.open("wb") as sink:
            code = subprocess.run(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, timeout=900,
                                  env={**os.environ, "NO_COLOR": "1"}).returncode
        match = TOTAL.search(log.read_text(errors="replace"))
        passed, failed = (int(match[1]), int(match[2])) if match else (0, -1)
        return Outcome(runtime, run, passed, failed, code, log)
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
        verdict = "ok" if o.exit_code == 0 else f"UNEXPECTED (exit {o.exit_code}, see {o.log.relative_to(ROOT)})"
        print(f"{o.runtime:8} {o.run.name:28} {o.passed:>6} {o.failed:>6}  {verdict}")
    return 0 if all(o.exit_code == 0 for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

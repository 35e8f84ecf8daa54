"""Fixtures for the deployment checks: the SAM CLI venv, the transformed
template, and artifacts built once per session.

The SAM CLI and cfn-lint live in their own venv (.tools/sam, made by
deploy/install-sam.sh); everything here drives them as subprocesses, so the
test interpreter needs neither. Builds go to their own directories under
.aws-sam/ and are serialised with a file lock: several test sessions may share
one checkout.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SAM_VENV = REPO / ".tools" / "sam"
SAM = SAM_VENV / "bin" / "sam"
CFN_LINT = SAM_VENV / "bin" / "cfn-lint"
SAM_PYTHON = SAM_VENV / "bin" / "python"
TEMPLATE = REPO / "template.yaml"
HOST_ARTIFACT = REPO / ".aws-sam" / "host" / "build" / "McpFunction"
ARM64_BUILD_DIR = REPO / ".aws-sam" / "tests-arm64"
EVENTS = REPO / "events"


def run(cmd: list[str], *, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool from the repository root; SAM never sends telemetry from here."""
    full_env = {**os.environ, "SAM_CLI_TELEMETRY": "0", **(env or {})}
    return subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"


@contextmanager
def build_lock() -> Iterator[None]:
    lock_path = REPO / ".aws-sam" / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def sam_tools() -> Path:
    """The pinned SAM CLI + cfn-lint venv, installed on first use."""
    proc = subprocess.run(
        ["bash", str(REPO / "deploy" / "install-sam.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        if not SAM.exists():
            pytest.skip(f"SAM CLI venv .tools/sam is missing and deploy/install-sam.sh failed:\n{proc.stderr[-1500:]}")
        pytest.fail(f"deploy/install-sam.sh failed:\n{explain(proc)}")
    return SAM_VENV


def transform(*overrides: str) -> dict[str, Any]:
    """The template as CloudFormation will see it after the SAM transform."""
    proc = run([str(SAM_PYTHON), "deploy/transform.py", str(TEMPLATE), *overrides], timeout=120)
    assert proc.returncode == 0, explain(proc)
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="session")
def transformed(sam_tools: Path) -> dict[str, Any]:
    return transform()


@pytest.fixture(scope="session")
def host_artifact(sam_tools: Path) -> Path:
    """`make -f deploy/sam.mk sam-build-host`: the artifact built for this machine, once per session."""
    with build_lock():
        proc = run(["make", "--no-print-directory", "-f", "deploy/sam.mk", "sam-build-host"])
    assert proc.returncode == 0, explain(proc)
    assert (HOST_ARTIFACT / "handler.py").is_file()
    return HOST_ARTIFACT


@pytest.fixture(scope="session")
def arm64_artifact(sam_tools: Path) -> Path:
    """The deployable default (arm64) artifact, cross-built; never imported here."""
    bindirs = [
        subprocess.run(
            [sys.executable, "deploy/pythons.py", "bindir", v], cwd=REPO, capture_output=True, text=True, check=False
        )
        for v in ("3.13", "3.12")
    ]
    path = os.pathsep.join([p.stdout.strip() for p in bindirs if p.returncode == 0] + [os.environ.get("PATH", "")])
    with build_lock():
        proc = run(
            [
                str(SAM), "build", "--config-env", "default", "--template-file", str(TEMPLATE),
                "--build-dir", str(ARM64_BUILD_DIR / "build"), "--cache-dir", str(ARM64_BUILD_DIR / "cache"),
                "--parameter-overrides", "Architecture=arm64",
            ],
            env={"PATH": path},
        )
    assert proc.returncode == 0, explain(proc)
    return ARM64_BUILD_DIR / "build" / "McpFunction"

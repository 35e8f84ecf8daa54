"""Facts about a built Lambda artifact, and how to run code against it.

Shared by deploy/smoke.py and deploy/coldstart.py. The child process they start
is the runtime's Python in isolated mode without site-packages (`-I -S`), with
only the artifact prepended to sys.path: what /var/task gives a Lambda function,
minus the runtime's own boto3 (the artifact ships its own, see build-function.sh).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pythons import find_python  # deploy/ is not a package: imported by path

_PYC = re.compile(r"\.cpython-3(\d+)\.pyc$")
_EXT = re.compile(r"\.cpython-3\d+-(\w+)-linux-gnu\.so$")
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def python_version(artifact: Path) -> str:
    """`3.13`, read from the bytecode the build wrote for the entry point."""
    for pyc in (artifact / "__pycache__").glob("handler.cpython-3*.pyc"):
        match = _PYC.search(pyc.name)
        if match:
            return f"3.{match.group(1)}"
    raise SystemExit(f"{artifact}: no compiled handler.py (is this a `sam build` artifact?)")


def machine(artifact: Path) -> str | None:
    """`x86_64` or `aarch64`: what the artifact's compiled extensions are for."""
    for so in artifact.rglob("*.so"):
        match = _EXT.search(so.name)
        if match:
            return match.group(1)
    return None


def check_runnable_here(artifact: Path) -> None:
    built_for = machine(artifact)
    here = _MACHINES.get(platform.machine().lower(), platform.machine())
    if built_for is not None and built_for != here:
        raise SystemExit(
            f"{artifact} holds {built_for} extensions; this machine is {here}. "
            "Build one for this machine first: make sam-build-host"
        )


def runtime_python(artifact: Path, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    version = python_version(artifact)
    found = find_python(version)
    if found is None:
        raise SystemExit(f"python{version} (the artifact's runtime) not found on PATH or under pyenv")
    return found


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A small, Lambda-like environment: a region, no credentials, no AWS config
    files, nothing inherited from the caller but PATH. Not the Lambda markers
    (AWS_LAMBDA_FUNCTION_NAME): with them the app insists on SSM and DynamoDB."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "POWERTOOLS_SERVICE_NAME": "mcp-lambda",
        "POWERTOOLS_METRICS_NAMESPACE": "McpLambda",
    }
    env.update(extra or {})
    return env


def run_child(
    python: str,
    artifact: Path,
    code: str,
    args: list[str],
    *,
    env: dict[str, str],
    bytecode_writes: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh runtime interpreter that sees only the artifact and the stdlib.

    -I ignores PYTHON* variables (PYTHONPATH included), so the artifact goes on
    sys.path from the code itself; -B stands in for PYTHONDONTWRITEBYTECODE.
    """
    flags = ["-I", "-S"] + ([] if bytecode_writes else ["-B"])
    bootstrap = f"import sys; sys.path.insert(0, {str(artifact)!r}); del sys\n"
    command = [python, *flags, "-c", bootstrap + code, *args]
    return subprocess.run(command, env=env, cwd=artifact, capture_output=True, text=True, timeout=timeout, check=False)

"""The built artifact: what `sam build` puts in it, and that it serves the
committed events when imported by the runtime's Python (see deploy/smoke.py)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.deploy.conftest import EVENTS, REPO, explain, run

EXT = re.compile(r"\.cpython-3\d+-(\w+)-linux-gnu\.so$")


def smoke(artifact: Path, events: Path = EVENTS) -> tuple[int, dict[str, Any]]:
    proc = run([sys.executable, "deploy/smoke.py", "--artifact", str(artifact), "--events", str(events), "--json"])
    report: dict[str, Any] = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    assert report or proc.returncode != 0, explain(proc)
    return proc.returncode, report


def extension_machines(artifact: Path) -> set[str]:
    return {m.group(1) for so in artifact.rglob("*.so") if (m := EXT.search(so.name))}


def check_bytecode(artifact: Path, tag: str) -> None:
    sources = [p for p in artifact.rglob("*.py")]
    assert len(sources) > 100
    missing = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()]
    assert not missing, f"{len(missing)} modules without {tag} bytecode, e.g. {missing[:3]}"
    for pyc in artifact.rglob("*.pyc"):
        assert f".{tag}." in pyc.name, f"bytecode of another interpreter: {pyc}"
        header = pyc.read_bytes()[:8]
        # PEP 552 flags word: 0b01 = hash-based, 0b10 = check the source. Unchecked
        # hash-based bytecode survives the zip's rewritten mtimes.
        assert int.from_bytes(header[4:8], "little") == 0b01, f"not unchecked-hash bytecode: {pyc}"


def test_host_artifact_holds_only_what_runs(host_artifact: Path) -> None:
    assert (host_artifact / "handler.py").read_bytes() == (REPO / "handler.py").read_bytes()
    assert (host_artifact / "app" / "__init__.py").is_file()
    for absent in ("tests", "bench", "deploy", "events", "template.yaml", "samconfig.toml", "bin", "Makefile"):
        assert not (host_artifact / absent).exists(), absent
    for package in ("mcp", "mangum", "starlette", "boto3", "botocore", "aws_lambda_powertools", "pydantic_core"):
        assert (host_artifact / package).is_dir(), package


def test_host_artifact_bytecode_is_for_the_runtime(host_artifact: Path) -> None:
    check_bytecode(host_artifact, "cpython-313")


def test_host_artifact_extensions_are_for_this_machine(host_artifact: Path) -> None:
    import platform

    here = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    assert extension_machines(host_artifact) == {here}


def test_smoke_over_committed_events(host_artifact: Path) -> None:
    events = sorted(EVENTS.glob("*.json"))
    assert events, "no events/*.json: the handler has nothing to be fed"
    code, report = smoke(host_artifact)
    assert code == 0 and report["ok"], json.dumps(report, indent=1)[-6000:]
    assert len(report["invocations"]) == 2 * len(events)
    assert report["python"].startswith("3.13.")


def test_smoke_notices_a_missing_dependency(host_artifact: Path, tmp_path: Path) -> None:
    """The smoke is not vacuous: the artifact alone must be enough."""
    broken = tmp_path / "McpFunction"
    shutil.copytree(host_artifact, broken, ignore=shutil.ignore_patterns("mangum"), symlinks=True)
    code, report = smoke(broken)
    assert code != 0
    assert "mangum" in json.dumps(report.get("problems", report))


def test_arm64_artifact_cross_builds(arm64_artifact: Path, host_artifact: Path) -> None:
    """The deployable default, from aarch64 wheels. Not imported: on an x86_64
    machine its extensions cannot load (the host build above is what runs)."""
    assert extension_machines(arm64_artifact) == {"aarch64"}
    check_bytecode(arm64_artifact, "cpython-313")

    def sources(root: Path) -> list[Path]:
        return sorted(p.relative_to(root) for p in root.rglob("*.py"))

    # Same wheels for another platform: the same Python modules on both sides.
    assert sources(arm64_artifact) == sources(host_artifact)

"""Find the Lambda runtime's Python on this machine, and what an artifact is built for.

    python3 deploy/pythons.py find 3.13            -> absolute path of a working python3.13
    python3 deploy/pythons.py bindir 3.13          -> its bin directory (to put on PATH)
    python3 deploy/pythons.py target ARTIFACTS_DIR -> "3.13 arm64", what sam build asked for

Runs on any Python >= 3.8 (the build target calls it before it knows which
interpreter is the runtime's). Nothing here names a path of one machine: the
interpreter is looked up on PATH and under pyenv (`$PYENV_ROOT`, else `pyenv root`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: The template's defaults: what `sam build` builds when nothing overrides them.
DEFAULT_RUNTIME = "python3.13"
DEFAULT_ARCH = "arm64"
ARCHITECTURES = ("arm64", "x86_64")
FUNCTION_ID = "McpFunction"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))


def _pyenv_root() -> Path | None:
    root = os.environ.get("PYENV_ROOT")
    if root:
        return Path(root)
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    try:
        out = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.strip()) if out.strip() else None


def _candidates(version: str) -> list[str]:
    found = [os.environ.get("MCP_RUNTIME_PYTHON", ""), shutil.which(f"python{version}") or ""]
    root = _pyenv_root()
    if root is not None:
        # Newest patch release first: 3.13.1 before 3.13.0.
        pattern = f"versions/{version}*/bin/python{version}"
        found += [str(p) for p in sorted(root.glob(pattern), key=_version_key, reverse=True)]
    return [c for c in found if c]


def find_python(version: str) -> str | None:
    """Absolute path of an interpreter that really is Python `version` ("3.13").

    Every candidate is run: a pyenv shim exists on PATH even when the version
    behind it is not selected, and then it only prints an error.
    """
    probe = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"
    for candidate in _candidates(version):
        try:
            out = subprocess.run(
                [candidate, "-I", "-c", probe], capture_output=True, text=True, timeout=30, check=True
            ).stdout.split("\n")
        except (OSError, subprocess.SubprocessError):
            continue
        if len(out) >= 2 and out[0] == version and out[1]:
            return out[1]
    return None


def runtime_version(runtime: str) -> str:
    """`python3.13` -> `3.13`."""
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if match is None:
        raise ValueError(f"not a Python Lambda runtime: {runtime!r}")
    return match.group(1)


def _from_build_toml(artifacts_dir: Path) -> tuple[str, str] | None:
    """Runtime and architecture `sam build` resolved for our function.

    SAM writes its build graph (parameters and overrides already resolved) to
    `<build dir>/../build.toml` before it runs any builder; the makefile builder
    passes nothing but ARTIFACTS_DIR, so this is where the truth is.
    """
    toml_path = artifacts_dir.parent.parent / "build.toml"
    if not toml_path.is_file():
        return None
    try:
        import tomllib
    except ImportError:  # Python < 3.11: fall back to the environment or the defaults
        return None
    data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    for definition in data.get("function_build_definitions", {}).values():
        if FUNCTION_ID in definition.get("functions", []):
            return str(definition["runtime"]), str(definition.get("architecture", "x86_64"))
    return None


def build_target(artifacts_dir: Path) -> tuple[str, str, str]:
    """(python version, architecture, where that came from) for one build.

    Order: MCP_BUILD_RUNTIME / MCP_BUILD_ARCH in the environment, then the
    build graph sam build wrote, then the template's defaults.
    """
    runtime, arch, source = DEFAULT_RUNTIME, DEFAULT_ARCH, "template defaults"
    resolved = _from_build_toml(artifacts_dir)
    if resolved is not None:
        (runtime, arch), source = resolved, "sam build graph"
    if os.environ.get("MCP_BUILD_RUNTIME") or os.environ.get("MCP_BUILD_ARCH"):
        runtime = os.environ.get("MCP_BUILD_RUNTIME") or runtime
        arch = os.environ.get("MCP_BUILD_ARCH") or arch
        source = "environment"
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}")
    return runtime_version(runtime), arch, source


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] in ("find", "bindir"):
        path = find_python(argv[1])
        if path is None:
            print(f"python{argv[1]} not found on PATH or under pyenv (set MCP_RUNTIME_PYTHON)", file=sys.stderr)
            return 1
        print(path if argv[0] == "find" else str(Path(path).parent))
        return 0
    if len(argv) == 2 and argv[0] == "target":
        version, arch, source = build_target(Path(argv[1]))
        print(f"build target: python{version} {arch} (from {source})", file=sys.stderr)
        print(version, arch)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

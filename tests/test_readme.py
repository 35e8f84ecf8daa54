"""The README stays true: every configuration variable is documented and every make target it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.auth.config import ENV_DOC as AUTH_ENV
from app.transport.config import ENV_DOC as TRANSPORT_ENV
from app.items.config import ENV_DOC as ITEMS_ENV
from app.observability.config import ENV_DOC as OBSERVABILITY_ENV

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text() + (ROOT / "deploy" / "sam.mk").read_text()


@pytest.mark.parametrize("name", sorted({**TRANSPORT_ENV, **AUTH_ENV, **ITEMS_ENV, **OBSERVABILITY_ENV}))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in README


def test_the_two_commands_come_first_and_exist() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "make run" in first_block and "make test" in first_block
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", MAKEFILE, re.MULTILINE)


@pytest.mark.parametrize("target", sorted(set(re.findall(r"`make ([a-z-]+)", README))))
def test_every_make_target_named_exists(target: str) -> None:
    assert re.search(rf"^{re.escape(target)}:", MAKEFILE, re.MULTILINE), target


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()

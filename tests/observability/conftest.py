"""Fixtures of the observability tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.observability import (
    reset_logging,
)

from .support import Observed, observe


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    reset_logging()


@pytest.fixture
def observed(tmp_path: Path) -> Observed:
    return observe(tmp_path)

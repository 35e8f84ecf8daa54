"""The committed board page: rebuilt from views/board/ it is byte for byte the same, and it
references nothing outside itself."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.views import board_html

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "views" / "board"
COMMITTED = ROOT / "app" / "views" / "board.html"
NODE = ROOT / "tests" / "js" / "node_modules" / ".bin" / "node"


def test_committed_board_page_is_what_the_sources_build(tmp_path: Path) -> None:
    if not NODE.exists() or not (SOURCE / "node_modules" / "esbuild").is_dir():
        pytest.fail(f"the board's build tools are not installed: run `make board-deps` (expected {NODE} and {SOURCE}/node_modules)")
    fresh = tmp_path / "board.html"
    proc = subprocess.run(
        [str(NODE), "build.mjs", "--out", str(fresh)], cwd=SOURCE, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "bytes" in proc.stdout  # the build reports the page's size
    assert fresh.read_bytes() == COMMITTED.read_bytes(), (
        "app/views/board.html is stale: run `make board` and commit the result"
    )


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "srcset", "action", "data", "poster"} and value:
                self.references.append((tag, name, value))


def test_board_page_is_one_self_contained_document() -> None:
    html = board_html()
    parser = _References()
    parser.feed(html)
    assert parser.references == []  # inline script and style only: nothing to fetch
    assert parser.tags.count("script") == 1 and parser.tags.count("style") == 1
    assert "link" not in parser.tags and "iframe" not in parser.tags
    assert html.startswith("<!doctype html>")
    assert "/*INLINE_" not in html

"""The item board (`ui://items/board`): list, filter by tag, open, edit, add, delete.

Built from `views/board/` by `make board`; the built page is `board.html` beside
this module. The tools that show it are chosen in `app/items/tools.py`.
"""

from __future__ import annotations

from importlib.resources import files

from mcp.server.apps import Apps, ResourceCsp, ResourcePermissions

from app.scopes import ScopeCatalog

BOARD_URI = "ui://items/board"
BOARD_FILE = "board.html"

#: Nothing to fetch and nowhere to connect: script and style are inline, and tool calls go
#: through the host's bridge (postMessage), which no CSP directive governs.
BOARD_CSP = ResourceCsp(connect_domains=[], resource_domains=[])
#: Said explicitly (`{}`): no camera, microphone, geolocation or clipboard.
BOARD_PERMISSIONS = ResourcePermissions()


def board_html() -> str:
    """The built page, read from the package (start-up work: called once, when the server is built)."""
    return files(__package__).joinpath(BOARD_FILE).read_text(encoding="utf-8")


def add_board(apps: Apps, catalog: ScopeCatalog) -> None:
    """Register the board's resource on `apps`; tools bind to it with `apps.tool(resource_uri=BOARD_URI)`."""
    # Apps registers it, not the server: declared directly.
    catalog.declare("resource", BOARD_URI, ())  # a static page: what it shows comes through tools, each with its own scopes
    apps.add_html_resource(
        BOARD_URI,
        board_html(),
        name="item-board",
        title="Item board",
        description="Your items as a board: filter by tag, open one, edit, add or delete it.",
        csp=BOARD_CSP,
        permissions=BOARD_PERMISSIONS,
        prefers_border=True,
    )

"""MCP Apps views: HTML pages a host renders beside a tool's result.

The official extension `io.modelcontextprotocol/ui` lets a tool name a `ui://`
resource in `_meta.ui.resourceUri`; a host that speaks it reads the resource
(`text/html;profile=mcp-app`) and shows it in a sandboxed frame, and every
action the page takes is an ordinary tool call made through the host. Hosts
without the extension ignore the `_meta` and see the tool's text and
structured result as before.

Each view's source lives at the repository root in `views/<name>/` and builds
into one self-contained HTML file committed here (`app/views/<name>.html`), so
the Lambda artifact and `make run` need no Node build. The SDK's `Apps`
extension carries the rest: the resource, its CSP, the tools' `_meta` and the
capability.
"""

from __future__ import annotations

from app.views.board import BOARD_URI, add_board, board_html

__all__ = ["BOARD_URI", "add_board", "board_html"]

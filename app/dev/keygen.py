"""`python -m app.dev.keygen`: mint an API key (or a requestState sealing secret) for an operator.

The command lives here, beside the other entry points, because a key minted
without `--scopes` gets every scope the product declares, and only the built
product knows them: the declarations are made while the server is built
(`app.scopes`). Minting, ring entries and the ring file are `app.auth.keygen`'s.
`--request-state-key` builds no product (and imports no MCP code).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import TextIO

from app.auth import keygen


def declared_scopes() -> tuple[str, ...]:
    """Every scope the product's tools, resources and prompts declare: what a key needs to use all of it.

    Builds the product once, locally, with a throw-away SQLite file and nothing fetched, and reads
    what the build declared.
    """
    from app.main import build_product  # here: --request-state-key needs no server

    with tempfile.TemporaryDirectory() as data:
        product = build_product({"ITEMS_SQLITE_PATH": os.path.join(data, "items.sqlite3")})
    return product.auth.declared_scopes


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    return keygen.main(argv, out, declared_scopes=declared_scopes)


if __name__ == "__main__":
    raise SystemExit(main())

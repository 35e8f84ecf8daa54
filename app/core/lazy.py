"""PEP 562 lazy names for a package's `__init__`: a name's module is imported on first use.

So `import app.core.events` or `python -m app.dev.keygen --request-state-key` does not import the MCP
SDK, Starlette or boto3 just because a package re-exports something that does.
Standard library only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` resolving each name in `where` (name -> module) on first use."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__

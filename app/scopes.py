"""Which OAuth scopes each tool, resource, resource template and prompt needs: declared where it is defined.

A tool author adds one line beside the registration, in the module that defines it:

    from app import scopes

    scopes.tool("items_add", "items:write")       # needs items:write
    scopes.resource("items://me/usage", "items:read")
    scopes.template("items://{id}", "items:read")  # resources/read of any URI it matches
    scopes.prompt("summarize_items", "items:read")
    scopes.tool("echo")                            # needs nothing beyond MCP_REQUIRED_SCOPES

A caller whose credential lacks a declared scope does not see the item in the
list methods and is refused (403, `insufficient_scope`) when it calls, reads or
gets it; completions over a template or prompt need that item's scopes. An item
declared with no scope is open to every caller the server lets in.
`MCP_REQUIRED_SCOPES` stays the gate for the whole server, on top of this.

Pure: no SDK, no web framework. Declarations are facts about the code, made
at import time, so they are all known before the first request; the
enforcement (`app.auth.tool_scopes`) turns them into sets once, at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from app.errors import ConfigurationError, InsufficientScope
from app.principal import current_principal

Kind = Literal["tool", "resource", "template", "prompt"]
KINDS: tuple[Kind, ...] = ("tool", "resource", "template", "prompt")

_NONE: frozenset[str] = frozenset()


@dataclass
class ScopeCatalog:
    """name -> scopes needed, per kind. Append-only; a conflicting redeclaration is a programming error."""

    _needs: dict[Kind, dict[str, frozenset[str]]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    def declare(self, kind: Kind, name: str, scopes: Iterable[str]) -> None:
        needed = frozenset(scopes)
        if any(not s or not s.isprintable() or " " in s or '"' in s or "\\" in s for s in needed):
            # A scope travels in a quoted WWW-Authenticate parameter (RFC 6750 scope-token).
            raise ConfigurationError(f"{kind} {name!r}: a scope is a non-empty token without spaces or quotes")
        known = self._needs[kind].get(name)
        if known is not None and known != needed:
            raise ConfigurationError(f"{kind} {name!r} is declared twice with different scopes")
        self._needs[kind][name] = needed

    def needs(self, kind: Kind, name: str) -> frozenset[str] | None:
        """The scopes `name` needs; None when it was never declared."""
        return self._needs[kind].get(name)

    def declared(self, kind: Kind) -> Mapping[str, frozenset[str]]:
        return MappingProxyType(self._needs[kind])

    def all_scopes(self) -> tuple[str, ...]:
        """Every scope some item needs, sorted (the metadata's `scopes_supported`, the dev key's grant)."""
        return tuple(sorted({s for names in self._needs.values() for needed in names.values() for s in needed}))


#: The process-wide catalog the product's modules declare into.
CATALOG = ScopeCatalog()


def tool(name: str, *scopes: str) -> None:
    """Declare that calling tool `name` (and its tasks) needs every scope in `scopes`."""
    CATALOG.declare("tool", name, scopes)


def resource(uri: str, *scopes: str) -> None:
    """Declare that reading the resource at `uri` needs every scope in `scopes`."""
    CATALOG.declare("resource", uri, scopes)


def template(uri_template: str, *scopes: str) -> None:
    """Declare that reading any URI of `uri_template` (and completing its arguments) needs `scopes`."""
    CATALOG.declare("template", uri_template, scopes)


def prompt(name: str, *scopes: str) -> None:
    """Declare that getting prompt `name` (and completing its arguments) needs `scopes`."""
    CATALOG.declare("prompt", name, scopes)


def missing(needed: frozenset[str], granted: frozenset[str]) -> tuple[str, ...]:
    """The needed scopes not granted, sorted (empty when allowed)."""
    return () if needed <= granted else tuple(sorted(needed - granted))


def refusal(kind: Kind, name: str, needed: frozenset[str], granted: frozenset[str]) -> InsufficientScope | None:
    """The `InsufficientScope` for a caller holding `granted`, or None when `needed` is covered.

    The reason names the item and scopes, which the server declared: never
    anything the caller sent beyond a name that matched a declaration.
    """
    lacking = missing(needed, granted)
    if not lacking:
        return None
    required = tuple(sorted(needed))
    return InsufficientScope(f"{kind} {name} needs scope {' '.join(required)}", required, lacking)


def require_tool(name: str, catalog: ScopeCatalog = CATALOG) -> None:
    """Raise `InsufficientScope` unless the current caller may use tool `name`.

    For code that learns a tool's name after dispatch (the tasks extension:
    `tasks/get`, `tasks/update`, `tasks/cancel` name a task, whose record names
    the tool). Call it after the ownership check, so another principal's task
    stays "not found". The scope middleware adds the `WWW-Authenticate` challenge.
    """
    needed = catalog.needs("tool", name)
    if needed:
        refused = refusal("tool", name, needed, current_principal().scopes)
        if refused is not None:
            raise refused

"""Which OAuth scopes each tool, resource, resource template and prompt needs: declared where it is defined.

A tool author states the scopes in the registration call itself, through the
catalog the composition root built (`build_server(catalog=...)`), so a name is
written once:

    @catalog.tool(server, scopes=("items:write",), description="...")   # needs items:write
    @catalog.resource(server, "items://me/usage", scopes=("items:read",), name="item-usage")
    @catalog.template(server, "items://{id}", scopes=("items:read",), name="item")
    @catalog.prompt(server, name="summarize_items", scopes=("items:read",))
    @catalog.task_tool(tasks, server, name="items_export", scopes=("items:read",))
    @catalog.tool(server, scopes=())      # needs nothing beyond MCP_REQUIRED_SCOPES

A caller whose credential lacks a declared scope does not see the item in the
list methods and is refused (403, `insufficient_scope`) when it calls, reads or
gets it; completions over a template or prompt need that item's scopes. An item
declared with no scope is open to every caller the server lets in.
`MCP_REQUIRED_SCOPES` stays the gate for the whole server, on top of this.

Pure: no SDK import (the server is whatever the caller registers on), no web
framework. Declarations are made while the server is built, so they are all
known before the first request; the
enforcement (`app.auth.tool_scopes`) turns them into sets once, at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from app.core.errors import ConfigurationError, InsufficientScope
from app.core.principal import current_principal

Kind = Literal["tool", "resource", "template", "prompt"]
KINDS: tuple[Kind, ...] = ("tool", "resource", "template", "prompt")

_NONE: frozenset[str] = frozenset()

_Decorator = Callable[[Callable[..., Any]], Any]


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


    # Registration helpers: the SDK's decorator with the scopes beside it, so a tool's name is
    # written once and its scopes cannot drift from it. `server` is the SDK's MCPServer (or the
    # Tasks extension for `task_tool`); typed loosely because this module stays SDK-free.

    def tool(self, server: Any, *, scopes: Iterable[str], name: str | None = None, **kwargs: Any) -> _Decorator:
        """`server.tool(name=..., **kwargs)`, declaring that calling it (and its tasks) needs `scopes`."""
        return self._declaring("tool", name, scopes, lambda tool_name: server.tool(name=tool_name, **kwargs))

    def task_tool(
        self, tasks: Any, server: Any, *, name: str, scopes: Iterable[str], **kwargs: Any
    ) -> _Decorator:
        """`tasks.tool(server, name=..., **kwargs)` (the Tasks extension), declaring `scopes` like `tool`."""
        return self._declaring("tool", name, scopes, lambda tool_name: tasks.tool(server, name=tool_name, **kwargs))

    def resource(self, server: Any, uri: str, *, scopes: Iterable[str], **kwargs: Any) -> _Decorator:
        """`server.resource(uri, **kwargs)`, declaring that reading `uri` needs `scopes`."""
        self.declare("resource", uri, scopes)
        decorator: _Decorator = server.resource(uri, **kwargs)
        return decorator

    def template(self, server: Any, uri_template: str, *, scopes: Iterable[str], **kwargs: Any) -> _Decorator:
        """`server.resource(uri_template, ...)`: reading any URI it matches (and completing its arguments) needs `scopes`."""
        self.declare("template", uri_template, scopes)
        decorator: _Decorator = server.resource(uri_template, **kwargs)
        return decorator

    def prompt(self, server: Any, *, name: str, scopes: Iterable[str], **kwargs: Any) -> _Decorator:
        """`server.prompt(name=..., **kwargs)`, declaring that getting it (and completing its arguments) needs `scopes`."""
        self.declare("prompt", name, scopes)
        decorator: _Decorator = server.prompt(name=name, **kwargs)
        return decorator

    def require_tool(self, name: str) -> None:
        """`require_tool(name, self)`: the hook the tasks extension calls for tasks/* (see below)."""
        require_tool(name, self)

    def _declaring(
        self, kind: Kind, name: str | None, scopes: Iterable[str], register: Callable[[str | None], _Decorator]
    ) -> _Decorator:
        needed = tuple(scopes)
        if name is not None:
            self.declare(kind, name, needed)
            return register(name)

        def decorate(fn: Callable[..., Any]) -> Any:
            # The SDK names an unnamed tool after its function; declare under that same name.
            self.declare(kind, fn.__name__, needed)
            return register(None)(fn)

        return decorate


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


def require_tool(name: str, catalog: ScopeCatalog) -> None:
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

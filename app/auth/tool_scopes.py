"""Per-item authorization: the scopes a tool, resource, template or prompt declares (`app.scopes`), enforced.

`ScopeGuard` is an MCP server middleware (the SDK's `Server.middleware`),
installed by the composition root. It runs after the body was parsed once and
after the 2026-07-28 header checks (`Mcp-Name` agrees with the body), so the
tool's name is known exactly once, here, where the caller is known too.

- `tools/call`, `resources/read`, `prompts/get`, `completion/complete`: when the
  caller's scopes do not cover what the item declares, `InsufficientScope`
  (with its `WWW-Authenticate` challenge) is raised before the handler runs.
  The transport answers it 403 with a JSON-RPC error (`app.core.errors.Refusal`).
- `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`:
  what the caller may not use is left out of the result.
- Anything else that raises `InsufficientScope` below (the tasks extension
  through `ScopeCatalog.require_tool`) gets the same challenge attached.

Cost: the declarations become sets once, at construction. A caller holding
every declared scope passes on one subset check; anyone else pays a dict
lookup and a subset check per call, or, for a list, a cached per-scope-set
"hidden" set and one pass over the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.uri_template import UriTemplate
from starlette.requests import Request

from app.auth.challenge import Challenger
from app.core.errors import InsufficientScope
from app.core.principal import peek_principal
from app.scopes import Kind, ScopeCatalog, refusal

_NOTHING: Final[frozenset[str]] = frozenset()
#: Distinct caller scope sets remembered for list filtering (cleared when full).
_MAX_SCOPE_SETS: Final = 1024

#: list method -> (result key, kind, the field naming each entry)
LISTS: Final[dict[str, tuple[str, Kind, str]]] = {
    "tools/list": ("tools", "tool", "name"),
    "resources/list": ("resources", "resource", "uri"),
    "resources/templates/list": ("resourceTemplates", "template", "uriTemplate"),
    "prompts/list": ("prompts", "prompt", "name"),
}


class ScopeGuard:
    """Refuses calls outside the caller's scopes and filters list results. One per server, built at start-up."""

    def __init__(self, catalog: ScopeCatalog, challenger: Challenger | None = None) -> None:
        self._challenger = challenger
        self._needs: dict[Kind, dict[str, frozenset[str]]] = {
            kind: dict(catalog.declared(kind)) for kind in ("tool", "resource", "template", "prompt")
        }
        self._templates = [(UriTemplate.parse(t), t, needed) for t, needed in self._needs["template"].items()]
        #: Every scope some item needs: a caller holding all of them is never refused or filtered.
        self.everything = frozenset(catalog.all_scopes())
        self._hidden: dict[frozenset[str], dict[Kind, frozenset[str]]] = {}
        self._checks: dict[str, Callable[[Mapping[str, Any]], tuple[Kind, str, frozenset[str]] | None]] = {
            "tools/call": self._tool,
            "resources/read": self._read,
            "prompts/get": self._prompt,
            "completion/complete": self._completion,
        }

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        principal = peek_principal()
        granted = principal.scopes if principal is not None else _NOTHING
        if self.everything <= granted:
            return await call_next(ctx)
        method = ctx.method
        check = self._checks.get(method)
        if check is not None and ctx.params:
            target = check(ctx.params)
            if target is not None:
                refused = refusal(target[0], target[1], target[2], granted)
                if refused is not None:
                    raise self._challenge(ctx, refused)
        try:
            result = await call_next(ctx)
        except InsufficientScope as exc:
            raise self._challenge(ctx, exc) from None
        listing = LISTS.get(method)
        if listing is not None and isinstance(result, dict):
            self._filter(result, listing, granted)
        return result

    # -- what a request touches ------------------------------------------------

    def _tool(self, params: Mapping[str, Any]) -> tuple[Kind, str, frozenset[str]] | None:
        name = params.get("name")
        needed = self._needs["tool"].get(name) if isinstance(name, str) else None
        return ("tool", name, needed) if needed else None  # type: ignore[return-value]

    def _prompt(self, params: Mapping[str, Any]) -> tuple[Kind, str, frozenset[str]] | None:
        name = params.get("name")
        needed = self._needs["prompt"].get(name) if isinstance(name, str) else None
        return ("prompt", name, needed) if needed else None  # type: ignore[return-value]

    def _read(self, params: Mapping[str, Any]) -> tuple[Kind, str, frozenset[str]] | None:
        uri = params.get("uri")
        return self.resource_needs(uri) if isinstance(uri, str) else None

    def _completion(self, params: Mapping[str, Any]) -> tuple[Kind, str, frozenset[str]] | None:
        ref = params.get("ref")
        if not isinstance(ref, Mapping):
            return None
        if ref.get("type") == "ref/prompt":
            return self._prompt(ref)
        uri = ref.get("uri")
        if ref.get("type") == "ref/resource" and isinstance(uri, str):
            needed = self._needs["template"].get(uri)
            if needed is not None:
                return ("template", uri, needed) if needed else None
            return self.resource_needs(uri)
        return None

    def resource_needs(self, uri: str) -> tuple[Kind, str, frozenset[str]] | None:
        """What reading `uri` needs: its own declaration, else the first declared template it matches.

        The SDK resolves concrete resources before templates, and so does this.
        """
        needed = self._needs["resource"].get(uri)
        if needed is not None:
            return ("resource", uri, needed) if needed else None
        for parsed, template, needed in self._templates:
            if parsed.match(uri) is not None:
                return ("template", template, needed) if needed else None
        return None

    # -- lists -------------------------------------------------------------------

    def _filter(self, result: dict[str, Any], listing: tuple[str, Kind, str], granted: frozenset[str]) -> None:
        key, kind, field = listing
        entries = result.get(key)
        if not entries:
            return
        hidden = self._hidden_for(granted)[kind]
        if kind == "resource":
            result[key] = [e for e in entries if not self._hides_resource(e.get(field), hidden, granted)]
        elif hidden:
            result[key] = [e for e in entries if e.get(field) not in hidden]

    def _hides_resource(self, uri: Any, hidden: frozenset[str], granted: frozenset[str]) -> bool:
        if uri in hidden:
            return True
        if not isinstance(uri, str) or uri in self._needs["resource"]:
            return False
        target = self.resource_needs(uri)  # a listed resource without its own declaration: its template's
        return target is not None and not target[2] <= granted

    def _hidden_for(self, granted: frozenset[str]) -> dict[Kind, frozenset[str]]:
        """Names of each kind a caller holding `granted` may not use; computed once per distinct scope set."""
        hidden = self._hidden.get(granted)
        if hidden is None:
            hidden = {
                kind: frozenset(name for name, needed in names.items() if not needed <= granted)
                for kind, names in self._needs.items()
            }
            if len(self._hidden) >= _MAX_SCOPE_SETS:
                self._hidden.clear()
            self._hidden[granted] = hidden
        return hidden

    # -- refusals ----------------------------------------------------------------

    def _challenge(self, ctx: ServerRequestContext[Any, Any], exc: InsufficientScope) -> InsufficientScope:
        """`exc` as this deployment answers it (`Challenger.answer`: a 403 step-up challenge in OAuth
        modes, a plain JSON-RPC error in a 200 with API keys). The request's URL names the metadata."""
        if self._challenger is not None and not exc.headers:
            scope = ctx.request.scope if isinstance(ctx.request, Request) else None  # the HTTP request, if any
            answer = self._challenger.answer(scope, exc, per_item=True)
            exc.status, exc.headers = answer.status, answer.headers
        return exc

"""The app's routes, and which of them answer without credentials.

Routing decides before authentication (`app.auth.middleware` asks `routed`):
a path no route serves is a 404 and a method no route at that path takes is
a 405, whoever asks; neither reveals anything, and a 401 there makes OAuth
clients start a login that cannot succeed. Only a `PublicRoute` is served to
anyone. Every other route, including one added later, is authenticated.

The MCP endpoint takes POST at its path and at the path with a trailing
slash (clients append one; a redirect would drop a stage prefix and some
clients cannot follow it). Every other method at those paths reaches the
same endpoint through a `PublicRoute`, which answers 405 before reading
anything, so the method check comes first with or without credentials.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Scope

HEALTH_PATH: Final = "/health"


class PublicRoute(Route):
    """A route served without credentials: what it answers is public by design (health, metadata, 405s)."""


def endpoint_paths(path: str) -> tuple[str, ...]:
    """The paths the MCP endpoint answers at: `path` and `path/`."""
    base = path.rstrip("/")
    return (base, base + "/") if base else ("/",)


def endpoint_routes(path: str, endpoint: ASGIApp) -> list[BaseRoute]:
    """POST at `path` and `path/` reaches the endpoint; any other method gets its 405, unauthenticated."""
    paths = endpoint_paths(path)
    routes: list[BaseRoute] = [Route(p, endpoint, methods=("POST",)) for p in paths]
    # After the POST routes: the router takes the first full match, so these see every other method.
    routes.extend(PublicRoute(p, endpoint) for p in paths)
    return routes


def health_route(name: str, version: str | None, path: str = HEALTH_PATH) -> Route:
    """GET/HEAD `path`: 200 with the server's name and version, built once (no I/O per request)."""
    body = json.dumps({"status": "ok", "name": name, "version": version}, separators=(",", ":")).encode()

    async def health(_: Request) -> Response:
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    return PublicRoute(path, health, methods=("GET",), name="health")


def routed(routes: Sequence[BaseRoute], scope: Scope) -> tuple[BaseRoute | None, bool]:
    """(route the router will hand `scope` to, whether it takes the method), as Starlette's router decides.

    (None, False): no route serves the path (the router answers 404).
    (route, False): a route serves the path but not the method (405, nothing runs).
    """
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route, True
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial, False


def needs_credentials(routes: Sequence[BaseRoute], scope: Scope) -> bool:
    """False when the request cannot reach anything private: no route, a refused method, or a public route."""
    route, full = routed(routes, scope)
    return route is not None and full and not isinstance(route, PublicRoute)


def app_routes(app: Any) -> Sequence[BaseRoute] | None:
    """The routes of a Starlette app (its public `routes` property); None for any other ASGI app."""
    return app.routes if isinstance(app, Starlette) else None

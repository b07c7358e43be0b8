"""Routers joined flat: every route of an included router is registered again on the router
that includes it, with the prefix, so that the app holds one list of routes.

FastAPI (0.16x) keeps an included router as a nested object that is matched twice per level
(once to find it, once more to pick the route inside), each candidate with its own scope
bookkeeping: with ~150 routes in three levels, finding the route cost 0.4–1.0 ms of CPU per
request, more than the page behind it (README, "Request path performance", fourth round).
Registered flat, a route is still found by trying each route before it in turn (~3 µs each);
:class:`RouteIndex`, put first in the app's routes once they are all there, tries only the
routes whose literal start (the path up to its first ``{``) the request's path has — the same
routes in the same order, so the same one wins — and hands the request to it.

Only what the routers here use is carried over: the routes' own options (prefix, tags,
dependencies, responses and ``include_in_schema`` of their router were merged into each route
when it was declared). A router that is not made of ``APIRoute``s, or that sets what a router
applies as it runs (form limits, start-up handlers), is refused.
"""

from __future__ import annotations

import inspect

from fastapi.routing import APIRoute, APIRouter
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound
from starlette.types import Receive, Scope, Send

# the options a route was declared with, as ``add_api_route`` takes them
_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in ("self", "path", "endpoint", "route_class_override")
)


def include_flat(target: APIRouter, router: APIRouter, prefix: str = "") -> None:
    """Register each of ``router``'s routes on ``target`` under ``prefix``."""
    # what a router applies while it runs, not to its routes when they are declared, would be
    # lost: refused rather than dropped
    if getattr(router, "form_limits", None) or router.on_startup or router.on_shutdown:
        raise TypeError("include_flat takes routers without form limits or start-up handlers")
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_flat takes API routes only, not {route!r}")
        options = {name: getattr(route, name) for name in _OPTIONS if hasattr(route, name)}
        target.add_api_route(
            prefix + route.path, route.endpoint, route_class_override=type(route), **options
        )


try:  # FastAPI's own telemetry names the route a request took (from the route it is handed)
    from fastapi.routing import _route_selected
except ImportError:  # a FastAPI without it
    _route_selected = None

_CHOSEN = "flexhub.route"  # the scope key that carries the route found to ``handle``


class RouteIndex(BaseRoute):
    """The routes of a router, tried only where the path can match (see the module's text).

    It stands in front of the routes it indexes, which stay in the router's list for the
    OpenAPI document and for ``url_path_for``; a path it finds nothing for (a 404, a trailing
    slash to redirect) goes on to them as before. Paths under a ``root_path`` are left to them
    too (none here)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.table = [(_literal_start(route), route) for route in routes]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("root_path"):
            return Match.NONE, {}
        path = scope["path"]
        partial: Scope | None = None
        for start, route in self.table:
            if not path.startswith(start):
                continue
            match, child = route.matches(scope)  # a new dict each time: marked in place
            if match == Match.FULL:
                child[_CHOSEN] = route
                return match, child
            if match == Match.PARTIAL and partial is None:
                child[_CHOSEN] = route
                partial = child
        if partial is None:
            return Match.NONE, {}
        return Match.PARTIAL, partial

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.pop(_CHOSEN)
        if _route_selected is not None:  # the router told it nothing: this index has no path
            path = getattr(route, "path_format", None)
            _route_selected(scope=scope, path=path, mount=isinstance(route, Mount))
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: object):
        raise NoMatchFound(name, path_params)  # the indexed routes answer for themselves


def _literal_start(route: BaseRoute) -> str:
    """What every path the route matches starts with: its path up to the first parameter
    (empty, so always tried, for a route without a path, such as a host route)."""
    path = getattr(route, "path", None)
    return path.split("{", 1)[0] if isinstance(path, str) else ""


def index_routes(router: APIRouter) -> None:
    """Put a :class:`RouteIndex` of the router's routes first (call once all are added)."""
    routes = [route for route in router.routes if not isinstance(route, RouteIndex)]
    router.routes[:] = [RouteIndex(routes), *routes]

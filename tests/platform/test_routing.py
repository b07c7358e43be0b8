"""The app's routes are registered flat and found through ``RouteIndex``: for every route, the
index picks the route a plain scan of the router's list picks (first full match, else the
first partial one), and the app answers as before — the page, 404, 405 and the trailing-slash
redirect, over HTTP."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import APIRouter
from starlette.routing import Match, Mount, Route

from flexhub.config import load_settings
from flexhub.platform.app import create_app
from flexhub.platform.routing import RouteIndex, include_flat


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("routing")
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'x.db'}", data_dir=str(tmp), run_worker=False
    )
    return create_app(settings)


def _scan(routes, scope) -> tuple[Match, object]:
    """What a router's own loop picks."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return match, route
        if match == Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _sample_paths(route) -> list[str]:
    """Paths this route matches, one per way of filling its parameters."""
    path = route.path if not isinstance(route, Mount) else route.path + "/x.css"
    return [re.sub(r"\{[^}]+\}", fill, path) for fill in ("some-id", "batch", "eligible")]


def test_the_index_picks_what_a_scan_of_the_routes_picks(app):
    index, *routes = app.router.routes
    assert isinstance(index, RouteIndex)
    assert len(routes) > 100 and all(isinstance(r, Route | Mount) for r in routes)
    tried = 0
    for route in routes:
        for path in _sample_paths(route):
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                scope = _scope(method, path)
                expected, chosen = _scan(routes, scope)
                match, child = index.matches(scope)
                assert match == expected, (method, path)
                assert child.get("flexhub.route") is chosen, (method, path)
                tried += 1
    assert tried > 1500
    for path in ("/nowhere", "/energy-coordination/v1/nothing", "/so/v1"):
        assert index.matches(_scope("GET", path)) == (Match.NONE, {})


def test_the_routes_are_flat_and_the_document_names_them_in_full(app):
    document = app.openapi()
    assert "/energy-coordination/v1/events" in document["paths"]
    assert "/so/v1/dispatches/" in document["paths"]
    assert not any(p.startswith("/dashboard") for p in document["paths"])  # kept out, as declared
    assert app.url_path_for("healthz") == "/healthz"
    nested = APIRouter()
    nested.include_router(APIRouter())
    with pytest.raises(TypeError, match="API routes only"):
        include_flat(APIRouter(), nested)
    with pytest.raises(TypeError, match="form limits"):  # applied as the router runs: lost
        include_flat(APIRouter(), APIRouter(form_limits={"max_fields": 1}))


async def test_answers_through_the_index_over_http(platform, ec):
    r = await ec.client.get("/events", params={"pageSize": 2})
    assert r.status_code == 200 and "events" in r.json()
    r = await ec.client.delete("/events")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    r = await ec.client.get("/no-such-thing")
    assert r.status_code == 404
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.get("/healthz")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        r = await http.get("/so/v1/dispatches", follow_redirects=False)  # declared with a "/"
        assert r.status_code in (307, 308) and r.headers["location"].endswith("/so/v1/dispatches/")


async def test_fastapis_telemetry_is_told_the_route_taken(app, monkeypatch):
    """FastAPI's own telemetry names a request's route from what the router hands it; the
    index hands it the route it chose (the router itself tells it nothing of the index)."""
    from flexhub.platform import routing

    if routing._route_selected is None:
        pytest.skip("this FastAPI has no telemetry of its own")
    told: list[tuple[str | None, bool]] = []
    original = routing._route_selected

    def record(*, scope, path, mount=False):
        told.append((path, mount))
        return original(scope=scope, path=path, mount=mount)

    monkeypatch.setattr(routing, "_route_selected", record)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert told == [("/healthz", False)]
        told.clear()
        await http.get("/docs-static/nothing.css")
        assert told == [("/docs-static/{path}", True)]
        told.clear()
        await http.delete("/energy-coordination/v1/events")  # the 405's route
        assert told == [("/energy-coordination/v1/events", False)]

"""The agent's own dashboard at ``/dashboard`` on its receiver (server-rendered with the shared
``flexhub.web`` templates, stylesheet, script and the package's plotly.js; no build step):
fleet state, each resource's schedule against the price curve it answers, dispatches in
progress, and the inbox with what each message passed. Read-only; it listens where the
receiver does (loopback by default): put it behind the provider's own access control when the
receiver faces the internet."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from flexhub.agent.context import Context
from flexhub.agent.observe import Metrics
from flexhub.web import PAGE_SIZE, charts, render, static_file

ROOT = "/dashboard"
NAV = [
    ("/", "Fleet"),
    ("/resources", "Resources"),
    ("/dispatches", "Dispatches"),
    ("/inbox", "Inbox"),
]
VERIFIED = {
    "ec": "X-Payload-Signature (HMAC-SHA256 of the raw body)",
    "fm": "JWS (platform key, alg from the key, iss, exp) and the SO's Ed25519 signature",
}


def _when(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _page_of(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1


class Dashboard:
    def __init__(self, ctx: Context, metrics: Metrics) -> None:
        self.ctx = ctx
        self.metrics = metrics

    def install(self, app: web.Application) -> None:
        app.router.add_get(ROOT, self.fleet)
        app.router.add_get(ROOT + "/", self.fleet)
        app.router.add_get(ROOT + "/resources", self.resources)
        app.router.add_get(ROOT + "/resources/{asset_id}", self.resource)
        app.router.add_get(ROOT + "/dispatches", self.dispatches)
        app.router.add_get(ROOT + "/inbox", self.inbox)
        app.router.add_get(ROOT + "/static/{name}", self.static)

    def _page(self, name: str, active: str, **context: Any) -> web.Response:
        html = render(
            name,
            root=ROOT,
            site="flexhub agent",
            nav=NAV,
            active=active,
            who=None,
            page_size=PAGE_SIZE,
            now=self.ctx.now(),
            **context,
        )
        return web.Response(text=html, content_type="text/html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        path = static_file(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def _states(self) -> list[dict[str, Any]]:
        out = []
        for spec in self.ctx.fleet.specs.values():
            state = await self.ctx.fleet.driver(spec.asset_id).read_state(spec.asset_id)
            out.append(
                {
                    "asset_id": spec.asset_id,
                    "kind": spec.kind,
                    "resource_id": spec.resource_id,
                    "location_id": spec.location_id,
                    "state": state.state,
                    "power_kw": state.power_kw,
                    "soc": state.soc,
                    "online": state.online,
                    "scheduled": spec.asset_id in self.ctx.schedules,
                }
            )
        return out

    async def fleet(self, request: web.Request) -> web.Response:
        states = await self._states()
        by_kind = Counter(s["kind"] for s in states)
        by_state = Counter(s["state"] for s in states)
        kw = sum(s["power_kw"] for s in states)
        dispatches = await self.ctx.store.dispatches()
        running = [d for d in dispatches if d["state"] in ("accepted", "running")]
        figure = {
            "data": [
                {
                    "type": "bar",
                    "x": sorted(by_state),
                    "y": [by_state[k] for k in sorted(by_state)],
                    "marker": {"color": charts.ACCENT},
                }
            ],
            "layout": charts.layout("Assets by state"),
        }
        return self._page(
            "agent/fleet.html",
            "/",
            assets=len(states),
            by_kind=sorted(by_kind.items()),
            kw=kw,
            scheduled=sum(s["scheduled"] for s in states),
            running=running,
            messages=len(await self.ctx.store.messages()),
            figure=figure,
        )

    async def resources(self, request: web.Request) -> web.Response:
        page = _page_of(request)
        states = sorted(await self._states(), key=lambda s: s["asset_id"])
        rows = states[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return self._page(
            "agent/resources.html", "/resources", rows=rows, page=page, total=len(states)
        )

    async def resource(self, request: web.Request) -> web.Response:
        asset_id = request.match_info["asset_id"]
        spec = self.ctx.fleet.specs.get(asset_id)
        if spec is None:
            raise web.HTTPNotFound(text=f"no asset {asset_id}")
        planned = self.ctx.schedules.get(asset_id)
        figure = None
        if planned is not None:
            event_id, schedule, prices = planned
            times = [
                (schedule.start + k * schedule.step).isoformat() for k in range(len(schedule.kw))
            ]
            figure = {
                "data": [
                    {
                        "type": "bar",
                        "x": times,
                        "y": prices,
                        "name": "price delta",
                        "yaxis": "y2",
                        "opacity": 0.35,
                        "marker": {"color": charts.delta_colours(prices)},
                    },
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "line": {"shape": "hv", "color": charts.ACCENT, "width": 3},
                        "x": times,
                        "y": [round(v, 3) for v in schedule.kw],
                        "name": "schedule, kW",
                    },
                ],
                "layout": charts.layout(
                    f"{asset_id}: schedule for event {event_id[:8]}",
                    xaxis={**charts.LAYOUT["xaxis"], "type": "date"},
                    yaxis={**charts.LAYOUT["yaxis"], "title": {"text": "kW"}},
                    yaxis2={"overlaying": "y", "side": "right", "title": {"text": "delta"}},
                ),
            }
        state = await self.ctx.fleet.driver(asset_id).read_state(asset_id)
        return self._page(
            "agent/resource.html",
            "/resources",
            spec=spec,
            state=state,
            figure=figure,
            schedule=planned[1] if planned else None,
            event_id=planned[0] if planned else None,
        )

    async def dispatches(self, request: web.Request) -> web.Response:
        page = _page_of(request)
        rows = sorted(await self.ctx.store.dispatches(), key=lambda d: d["start"])
        for d in rows:
            d["start_at"], d["end_at"] = _when(d["start"]), _when(d["end"])
            d["allocated_kw"] = sum(d["allocation"].values())
            d["delivered_kwh"] = sum(d["delivered"].values())
        shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return self._page(
            "agent/dispatches.html", "/dispatches", rows=shown, page=page, total=len(rows)
        )

    async def inbox(self, request: web.Request) -> web.Response:
        page = _page_of(request)
        messages = list(reversed(await self.ctx.store.messages()))
        shown = messages[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        for m in shown:
            m["received"], m["processed"] = _when(m["received_at"]), _when(m["processed_at"])
            m["verified"] = VERIFIED.get(m["source"], m["source"])
        refused = [
            (s.labels.get("source"), s.labels.get("reason"), s.value)
            for metric in self.metrics.rejected.collect()
            for s in metric.samples
            if s.name.endswith("_total") and s.value
        ]
        return self._page(
            "agent/inbox.html",
            "/inbox",
            rows=shown,
            page=page,
            total=len(messages),
            refused=refused,
        )

"""``demo-report.html``: one self-contained page (the package's plotly.js, stylesheet and script
inlined; nothing fetched) with each price curve against the fleet's load before and after
optimization, dispatch requested vs delivered per instruction, and the operator's power limit
against its location's load. Drawn from :class:`flexhub.demo.figures.Figures`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from flexhub.demo.figures import Curve, Figures, Limit
from flexhub.demo.scenario import Played
from flexhub.web import charts, render, static_file


def _iso(hours) -> list[str]:
    return [h.isoformat() for h in hours]


def curve_figure(c: Curve) -> dict[str, Any]:
    x = _iso(c.hours)
    return {
        "data": [
            {
                "type": "bar",
                "x": x,
                "y": c.delta,
                "name": "delta (NOK/kWh)",
                "yaxis": "y2",
                "opacity": 0.35,
                "marker": {"color": charts.delta_colours(c.delta)},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": [round(v, 3) for v in c.before_kwh],
                "name": "before (own control), kWh",
                "line": {"color": charts.NEUTRAL, "dash": "dot"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": [round(v, 3) for v in c.after_kwh],
                "name": "after (reported), kWh",
                "line": {"color": charts.ACCENT, "width": 3},
            },
        ],
        "layout": charts.layout(
            f"{c.neighbourhood}: {len(c.resources)} resources, event {c.event_id[:8]}",
            xaxis={**charts.LAYOUT["xaxis"], "type": "date"},
            yaxis={**charts.LAYOUT["yaxis"], "title": {"text": "kWh per hour"}},
            yaxis2={"overlaying": "y", "side": "right", "title": {"text": "NOK/kWh"}},
            legend={"orientation": "h", "y": -0.2},
        ),
    }


def dispatch_figure(f: Figures) -> dict[str, Any]:
    names = [i.name for i in f.instructions]
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [i.requested_mw for i in f.instructions],
                "name": "requested MW",
                "marker": {"color": charts.NEUTRAL},
            },
            {
                "type": "bar",
                "x": names,
                "y": [
                    0 if i.status == "rejected" else round(i.delivered_mw, 4)
                    for i in f.instructions
                ],
                "name": "delivered MW",
                "marker": {"color": charts.ACCENT},
            },
        ],
        "layout": charts.layout("Dispatch instructions", barmode="group"),
    }


def limit_figure(lim: Limit) -> dict[str, Any]:
    x = _iso(lim.hours)
    return {
        "data": [
            {
                "type": "bar",
                "x": x[: len(lim.load_kwh)],
                "y": lim.load_kwh,
                "name": "location load, kWh per hour",
                "marker": {"color": charts.ACCENT},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "color": charts.BAD, "width": 3},
                "x": x,
                "y": lim.limit_kw,
                "name": "limit, kW",
            },
        ],
        "layout": charts.layout(
            f"LocationLPC on {lim.location_id} ({lim.state})",
            xaxis={**charts.LAYOUT["xaxis"], "type": "date"},
        ),
    }


def _inline(name: str) -> Markup:
    path = static_file(name)
    assert path is not None, name
    return Markup(path.read_text(encoding="utf-8").replace("</script", "<\\/script"))


def cards(f: Figures) -> list[tuple[str, str]]:
    out, into = f.moved()
    total = {cur: v for per in f.compensation.values() for cur, v in per.items()}
    return [
        ("instructions", f"{len(f.instructions)}"),
        ("kWh out of strained hours", f"{out:,.0f}"),
        ("kWh into surplus hours", f"{into:,.0f}"),
        ("limits kept", f"{sum(lim.compliant for lim in f.limits)}/{len(f.limits)}"),
        ("compensation", ", ".join(f"{v:,.2f} {c}" for c, v in total.items()) or "0"),
    ]


def html(f: Figures, played: Played) -> str:
    mine = [lim for lim in f.limits if lim.requested]
    return render(
        "demo/report.html",
        day=str(played.day.date),
        homes=len(played.fleet.homes),
        seed=played.seed,
        cards=cards(f),
        curves=[(f"curve-{k}", curve_figure(c)) for k, c in enumerate(f.curves)],
        dispatch=dispatch_figure(f),
        instructions=f.instructions,
        limits=[(f"limit-{k}", limit_figure(lim)) for k, lim in enumerate(mine)],
        css=_inline("dashboard.css"),
        plotly=_inline("plotly.min.js"),
        script=_inline("dashboard.js"),
    )


def write(f: Figures, played: Played, path: Path) -> None:
    path.write_text(html(f, played), encoding="utf-8")

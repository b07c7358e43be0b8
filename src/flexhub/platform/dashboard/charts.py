"""Plotly figures (as plain dicts, drawn in the browser by the plotly.js the package serves)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flexhub.web.charts import BAD, GOOD, LAYOUT, NEUTRAL, delta_colours
from flexhub.web.charts import layout as _layout


def price_curve(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A PriceCurve event's delta per hour: green where the grid wants consumption (negative),
    red where it wants less."""
    curve = payload.get("priceCurveDelta") or {}
    points = curve.get("points") or []
    times = [p.get("timestamp") for p in points]
    prices = [p.get("price") for p in points]
    unit = f"{curve.get('currency') or ''}/{curve.get('energyUnit') or 'kWh'}"
    return {
        "data": [
            {
                "type": "bar",
                "x": times,
                "y": prices,
                "name": "delta",
                "marker": {"color": delta_colours(prices)},
                "hovertemplate": "%{x}<br>%{y} " + unit + "<extra></extra>",
            }
        ],
        "layout": _layout(
            f"Price curve delta, {payload.get('priceArea', '')} ({len(points)} hours)",
            yaxis={**LAYOUT["yaxis"], "title": {"text": unit}},
            xaxis={**LAYOUT["xaxis"], "type": "date"},
        ),
    }


def counts(title: str, values: Mapping[str, int], colours: Mapping[str, str] | None = None) -> dict:
    names = sorted(values)
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [values[n] for n in names],
                "marker": {"color": [(colours or {}).get(n, NEUTRAL) for n in names]},
            }
        ],
        "layout": _layout(title, annotations=[] if names else [_NOTHING]),
    }


_NOTHING = {"text": "nothing yet", "showarrow": False, "font": {"size": 16, "color": NEUTRAL}}


def outlines(areas: Iterable[tuple[str, list[list[list[float]]]]]) -> dict[str, Any]:
    """Neighbourhood outlines: ``(name, rings)`` with rings of ``[lon, lat]``."""
    data = []
    for name, rings in areas:
        for i, ring in enumerate(rings):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "fill": "toself",
                    "name": name,
                    "showlegend": i == 0,
                    "x": [p[0] for p in ring],
                    "y": [p[1] for p in ring],
                }
            )
    return {
        "data": data,
        "layout": _layout(
            "Neighbourhoods",
            xaxis={**LAYOUT["xaxis"], "title": {"text": "longitude"}},
            yaxis={**LAYOUT["yaxis"], "title": {"text": "latitude"}, "scaleanchor": "x"},
        ),
    }


STATUS_COLOURS = {
    "accepted": GOOD,
    "completed": GOOD,
    "delivered": GOOD,
    "Healthy": GOOD,
    "rejected": BAD,
    "failed": BAD,
    "cancelled": BAD,
    "Unhealthy": BAD,
    "TimeOut": BAD,
}

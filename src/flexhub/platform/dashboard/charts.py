"""Plotly figures (as plain dicts, drawn in the browser by the plotly.js the package serves)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

GOOD, BAD, NEUTRAL, INK = "#067647", "#b42318", "#5b6b7c", "#1d2733"
LAYOUT = {
    "margin": {"l": 56, "r": 16, "t": 32, "b": 48},
    "paper_bgcolor": "#fff",
    "plot_bgcolor": "#fff",
    "font": {"family": "system-ui, sans-serif", "size": 12, "color": INK},
    "xaxis": {"gridcolor": "#eef2f6"},
    "yaxis": {"gridcolor": "#eef2f6", "zerolinecolor": "#c9d2dc"},
}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**LAYOUT, "title": {"text": title, "font": {"size": 14}}, **extra}


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
                "marker": {"color": [GOOD if (v or 0) < 0 else BAD for v in prices]},
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

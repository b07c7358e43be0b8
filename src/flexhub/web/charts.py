"""What every dashboard plot shares (the platform's, the agent's, the demo's report): colours
and the base Plotly layout. Figures are plain dicts, drawn in the browser by the plotly.js the
package serves."""

from __future__ import annotations

from typing import Any

GOOD, BAD, NEUTRAL, INK, ACCENT = "#067647", "#b42318", "#5b6b7c", "#1d2733", "#0b6e4f"
LAYOUT = {
    "margin": {"l": 56, "r": 16, "t": 32, "b": 48},
    "paper_bgcolor": "#fff",
    "plot_bgcolor": "#fff",
    "font": {"family": "system-ui, sans-serif", "size": 12, "color": INK},
    "xaxis": {"gridcolor": "#eef2f6"},
    "yaxis": {"gridcolor": "#eef2f6", "zerolinecolor": "#c9d2dc"},
}


def layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**LAYOUT, "title": {"text": title, "font": {"size": 14}}, **extra}


def delta_colours(prices: list[float | None]) -> list[str]:
    """Green where the grid wants consumption (a negative delta), red where it wants less."""
    return [GOOD if (v or 0) < 0 else BAD for v in prices]

"""Dashboards' shared web assets: Jinja2 templates, the stylesheet and script, and the plotting
library served from the installed ``plotly`` package (nothing is fetched from the internet).

The platform and the agent each mount their own pages; both render with :data:`templates` and
serve :func:`static_file`. Times are written as ``<time>`` elements in UTC; the script shows
them in the viewer's time zone, with UTC on hover.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 50


def _time(value: datetime | str | None) -> Markup:
    """A ``<time>`` element in UTC (the script shows it in local time)."""
    if value is None:
        return Markup("–")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return Markup.escape(value)
    utc = value.astimezone(UTC).replace(microsecond=0)
    text = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{0}" title="{1}">{1}</time>').format(utc.isoformat(), text)


def _number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``</`` cannot end it early)."""
    return Markup(json.dumps(value, default=str).replace("</", "<\\/"))


templates = Environment(
    loader=PackageLoader("flexhub.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(time=_time, number=_number, json=_json)


def static_file(name: str) -> Path | None:
    """A static asset by name: ours, or ``plotly.min.js`` from the plotly package."""
    if name == "plotly.min.js":
        ref = resources.files("plotly") / "package_data" / "plotly.min.js"
        return Path(str(ref)) if ref.is_file() else None
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        return None
    return path


def render(name: str, **context: Any) -> str:
    return templates.get_template(name).render(**context)

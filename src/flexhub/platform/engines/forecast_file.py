"""Imported needs: hourly need per neighbourhood from a CSV or JSON file.

CSV: a header ``neighbourhoodId,timestamp,needKw`` (``neighbourhood_id``/``need_kw`` also
accepted), one row per hour. JSON: a list of ``{"neighbourhoodId", "timestamp", "needKw"}``
objects, or ``{"needs": [...]}``. Timestamps are ISO 8601 with an offset and start a whole hour;
the need is in kW (positive = use less, negative = use more, 0 = no need). A (neighbourhood,
hour) may appear once. Anything else is a :class:`ForecastFileError` naming the row and field.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flexhub.timeseries import is_whole_hour

MAX_ROWS = 200_000
MAX_ABS_KW = 1e7
FIRST_YEAR, LAST_YEAR = 2000, 2999
ALIASES = {
    "neighbourhoodid": "neighbourhoodId",
    "neighbourhood_id": "neighbourhoodId",
    "neighborhoodid": "neighbourhoodId",
    "timestamp": "timestamp",
    "needkw": "needKw",
    "need_kw": "needKw",
}


class ForecastFileError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NeedRow:
    neighbourhood_id: str
    hour: datetime  # UTC
    need_kw: float


def parse(data: bytes | str, kind: str | None = None) -> list[NeedRow]:
    """Rows of a file; ``kind`` is ``csv`` or ``json`` (guessed from the first character)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    if kind is None:
        kind = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    items = _json_items(text) if kind == "json" else _csv_items(text)
    rows: list[NeedRow] = []
    seen: set[tuple[str, datetime]] = set()
    for i, item in enumerate(items):
        if i >= MAX_ROWS:
            raise ForecastFileError(f"more than {MAX_ROWS} rows; split the file", "needs")
        row = _row(f"needs[{i}]", item)
        key = (row.neighbourhood_id, row.hour)
        if key in seen:
            raise ForecastFileError(
                f"needs[{i}]: neighbourhood {row.neighbourhood_id} at {row.hour.isoformat()} "
                "appears more than once",
                f"needs[{i}]",
            )
        seen.add(key)
        rows.append(row)
    if not rows:
        raise ForecastFileError("the file holds no needs", "needs")
    return rows


def _json_items(text: str) -> list[Any]:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ForecastFileError(f"not valid JSON: {exc}", "needs") from None
    if isinstance(doc, dict):
        doc = doc.get("needs")
    if not isinstance(doc, list):
        raise ForecastFileError('JSON must be a list of needs or {"needs": [...]}', "needs")
    return doc


def _csv_items(text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ForecastFileError("the file is empty", "needs") from None
    except csv.Error as exc:
        raise ForecastFileError(f"not valid CSV: {exc}", "needs") from None
    names = [ALIASES.get(h.strip().lower()) for h in header]
    missing = {"neighbourhoodId", "timestamp", "needKw"} - set(names)
    if missing:
        raise ForecastFileError(
            "the CSV header must name neighbourhoodId, timestamp and needKw "
            f"(missing: {', '.join(sorted(missing))})",
            "needs",
        )
    items = []
    try:
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue
            items.append({n: c.strip() for n, c in zip(names, line, strict=False) if n})
    except csv.Error as exc:
        raise ForecastFileError(f"not valid CSV: {exc}", "needs") from None
    return items


def _row(path: str, item: Any) -> NeedRow:
    if not isinstance(item, dict):
        raise ForecastFileError(f"{path}: must be an object", path)
    nid = item.get("neighbourhoodId")
    if not isinstance(nid, str) or not nid.strip() or len(nid) > 64:
        raise ForecastFileError(
            f"{path}.neighbourhoodId: a neighbourhood id is required", f"{path}.neighbourhoodId"
        )
    stamp = item.get("timestamp")
    try:
        hour = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        hour = None
    if hour is not None and not FIRST_YEAR <= hour.year <= LAST_YEAR:
        raise ForecastFileError(
            f"{path}.timestamp: {stamp} is outside the years {FIRST_YEAR} to {LAST_YEAR}",
            f"{path}.timestamp",
        )
    if hour is None or hour.tzinfo is None:
        raise ForecastFileError(
            f"{path}.timestamp: {stamp!r} is not an ISO 8601 time with an offset",
            f"{path}.timestamp",
        )
    if not is_whole_hour(hour):
        raise ForecastFileError(
            f"{path}.timestamp: {stamp} does not start an hour", f"{path}.timestamp"
        )
    raw = item.get("needKw")
    try:
        kw = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        kw = math.nan
    if not math.isfinite(kw) or abs(kw) > MAX_ABS_KW:
        raise ForecastFileError(f"{path}.needKw: {raw!r} is not a need in kW", f"{path}.needKw")
    return NeedRow(nid.strip(), hour.astimezone(UTC), kw)

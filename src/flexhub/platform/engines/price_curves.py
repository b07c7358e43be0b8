"""Price curves: the delta a PriceCurve event carries, one price per hour of the price area's
next local day (midnight to midnight local time: 23, 24 or 25 hours).

Whoever decides the prices (the sandbox's random deltas today, the forecast engine next) hands
them in; this module knows the day, the resolution, the unit and the area's currency.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic_core import to_json

from flexhub.timeseries import (
    HOURLY,
    PRICE_AREA_CURRENCIES,
    local_day_hours,
    next_local_day,
    zone_for,
)
from flexhub.wire.coordination.events import (
    PriceCurve,
    PriceCurvePayload,
    PriceCurvePoint,
    PriceCurveTarget,
)

PRICE_AREAS = tuple(PRICE_AREA_CURRENCIES)
DEFAULT_UNIT = "kWh"


def next_day_hours(area: str, now: datetime) -> list[datetime]:
    """The hours (UTC starts) of the local day after ``now`` in ``area``."""
    zone = zone_for(area)
    return local_day_hours(next_local_day(now, zone), zone)


def curve(
    area: str,
    points: Iterable[tuple[datetime, float]],
    *,
    energy_unit: str | None = None,
    currency: str | None = None,
) -> PriceCurve:
    """An hourly delta from ``(hour, price)`` pairs, in time order; the unit defaults to kWh
    and the currency to the area's."""
    ordered = sorted(points, key=lambda p: p[0])
    return PriceCurve(
        points=[PriceCurvePoint(price=price, timestamp=hour) for hour, price in ordered],
        energyUnit=energy_unit or DEFAULT_UNIT,
        currency=currency or PRICE_AREA_CURRENCIES[area],
        resolution=HOURLY,
    )


def next_day_curve(
    area: str, now: datetime, price: Callable[[datetime], float], **units: str | None
) -> PriceCurve:
    """The delta for every hour of the area's next local day, priced by ``price(hour)``
    (``units``: ``energy_unit`` and ``currency`` as for :func:`curve`)."""
    return curve(area, ((hour, price(hour)) for hour in next_day_hours(area, now)), **units)


def random_delta(area: str, now: datetime, rng: random.Random, **units: str | None) -> PriceCurve:
    """The sandbox's delta: a random price in [-1, 1] (4 decimals) for each hour of the next day."""
    return next_day_curve(area, now, lambda _hour: round(rng.uniform(-1, 1), 4), **units)


def payload(area: str, targets: Iterable[tuple[str, str]], delta: PriceCurve) -> PriceCurvePayload:
    """The PriceCurve event payload for ``(resourceId, locationId)`` targets."""
    return PriceCurvePayload(
        targets=[PriceCurveTarget(resourceId=r, locationId=loc) for r, loc in targets],
        priceCurveDelta=delta,
        priceArea=area,
    )


def payload_wire(payload: dict, delta_wire: bytes) -> str:
    """The wire text of a :func:`payload_json` payload, spliced from ``delta_wire`` (its checked
    delta serialised once, shared by a run's events) in the field order of
    ``PriceCurvePayload`` and ``PriceCurveTarget``, as the wire serialiser writes the model
    (``test_price_curves`` compares the two)."""
    text = b'{"targets":%s,"priceCurveDelta":%s,"priceArea":%s,"payloadType":"PriceCurve"}' % (
        to_json(payload["targets"]),
        delta_wire,
        to_json(payload["priceArea"]),
    )
    return text.decode()


# The delta at full need (the need as large as the transformer's capacity), per kWh.
FULL_SCALE = {"NOK": 1.0, "SEK": 1.0, "DKK": 0.75, "EUR": 0.1}


def need_prices(need: Iterable[float], capacity_kw: float | None, currency: str) -> list[float]:
    """The delta for each hour's need: ``full scale × need / capacity``, at most the full scale
    either way (4 decimals); positive (use less) where the need is positive, negative (use
    more) where it is negative, 0 without a need. Without a capacity the day's largest need is
    the scale."""
    needs = list(need)
    scale = capacity_kw or max((abs(n) for n in needs), default=0.0) or 1.0
    full = FULL_SCALE.get(currency, 1.0)
    return [round(full * max(-1.0, min(1.0, n / scale)), 4) + 0.0 for n in needs]


def payload_json(area: str, targets: Iterable[tuple[str, str]], delta: dict) -> dict:
    """:func:`payload` as its JSON form, for ``delta`` already in JSON form (``delta.model_dump
    (mode="json")`` of a checked curve) and targets that are stored ids: what a run writes
    thousands of times without checking the same curve again."""
    return {
        "targets": [{"resourceId": r, "locationId": loc} for r, loc in targets],
        "priceCurveDelta": delta,
        "priceArea": area,
        "payloadType": "PriceCurve",
    }

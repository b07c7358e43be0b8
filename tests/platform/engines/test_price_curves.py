"""Price curves: one delta per hour of the price area's next local day."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from flexhub.platform.engines import price_curves


def _curve(area: str, now: datetime, rng: random.Random) -> dict:
    return price_curves.random_delta(area, now, rng).model_dump(mode="json")


def test_default_curve_has_23_and_25_hours_on_dst_days():
    rng = random.Random(1)
    spring = _curve("NO1", datetime(2026, 3, 28, 12, tzinfo=UTC), rng)
    autumn = _curve("SE3", datetime(2026, 10, 24, 12, tzinfo=UTC), rng)
    ordinary = _curve("FI", datetime(2026, 6, 1, 12, tzinfo=UTC), rng)
    assert len(spring["points"]) == 23 and spring["currency"] == "NOK"
    assert spring["points"][0]["timestamp"] == "2026-03-28T23:00:00+00:00"
    assert spring["points"][-1]["timestamp"] == "2026-03-29T21:00:00+00:00"
    assert len(autumn["points"]) == 25 and autumn["currency"] == "SEK"
    assert autumn["points"][0]["timestamp"] == "2026-10-24T22:00:00+00:00"
    assert len(ordinary["points"]) == 24 and ordinary["currency"] == "EUR"
    assert ordinary["points"][0]["timestamp"] == "2026-06-01T21:00:00+00:00"  # FI is UTC+3


def test_a_curve_takes_the_prices_handed_in_in_time_order():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    hours = price_curves.next_day_hours("NO1", now)
    delta = price_curves.curve("NO1", [(h, float(i)) for i, h in reversed(list(enumerate(hours)))])
    assert [p.timestamp for p in delta.points] == hours
    assert [p.price for p in delta.points] == [float(i) for i in range(len(hours))]
    assert (delta.energyUnit, delta.currency, delta.resolution) == ("kWh", "NOK", "01:00:00")
    payload = price_curves.payload("NO1", [("r1", "l1")], delta).model_dump(mode="json")
    assert payload["payloadType"] == "PriceCurve" and payload["priceArea"] == "NO1"
    assert payload["targets"] == [{"resourceId": "r1", "locationId": "l1"}]


def test_the_spliced_wire_text_is_the_models_serialised():
    """A run's events keep wire text spliced from the shared delta (``payload_wire``): the
    same bytes as the payload validated into the wire models and serialised."""
    from flexhub.platform.coordination.events import _PAYLOAD, payload_wire

    rng = random.Random(7)
    for area, now in (("NO1", datetime(2026, 3, 28, 12, tzinfo=UTC)), ("FI", datetime.now(UTC))):
        delta = price_curves.random_delta(area, now, rng)
        targets = [("r-1", "l-1"), ('r "2"', "lokasjon-ø\\x"), ("vehicle ☀", "l-3")]
        payload = price_curves.payload_json(area, targets, delta.model_dump(mode="json"))
        wire = price_curves.payload_wire(payload, delta.model_dump_json().encode())
        assert wire == payload_wire(_PAYLOAD.validate_python(payload))

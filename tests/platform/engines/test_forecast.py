"""The built-in need forecast, imported needs overriding it, the delta from a need, and the
daily schedule (pure rules; no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from flexhub.platform.coordination.services.price_curve_schedule import due, parse_schedule
from flexhub.platform.engines import forecast_file
from flexhub.platform.engines.forecast import GridArea, combined_need, lpc_hours
from flexhub.platform.engines.load_model import BuiltinForecaster
from flexhub.platform.engines.price_curves import need_prices
from flexhub.timeseries import local_day_hours

OSLO = ZoneInfo("Europe/Oslo")


def ev_neighbourhood(**params) -> GridArea:
    """50 households near Oslo, each with an electric vehicle, rooftop solar, a 120 kW
    transformer."""
    return GridArea(
        id="evs",
        price_area="NO1",
        currency="NOK",
        time_zone="Europe/Oslo",
        capacity_kw=120.0,
        latitude=59.91,
        longitude=10.75,
        params={"solar_kwp": 250, **params},
        locations=50,
        resources={"Vehicle": 50},
    )


def by_local_hour(hours, values) -> dict[int, float]:
    return {h.astimezone(OSLO).hour: v for h, v in zip(hours, values, strict=True)}


def test_solar_surplus_at_midday_and_strain_in_the_evening_for_a_neighbourhood_of_evs():
    area = ev_neighbourhood()
    hours = local_day_hours(date(2027, 6, 15), OSLO)
    need = by_local_hour(hours, BuiltinForecaster().need(area, hours))
    surplus = [h for h, kw in need.items() if kw < 0]
    strained = [h for h, kw in need.items() if kw > 0]
    assert surplus and strained
    assert all(9 <= h <= 15 for h in [min(need, key=need.get)])  # the largest surplus: midday
    assert {11, 12, 13} <= set(surplus) and set(surplus) <= set(range(5, 18))
    assert {18, 19, 20} <= set(strained) and set(strained) <= set(range(16, 24))
    assert max(need, key=need.get) in (18, 19, 20)
    assert all(need[h] == 0 for h in (0, 1, 2, 3))  # night: below capacity, no sun


def test_the_evening_strain_comes_from_the_vehicles():
    hours = local_day_hours(date(2027, 6, 15), OSLO)
    without = GridArea(**{**ev_neighbourhood().__dict__, "resources": {}})
    need = by_local_hour(hours, BuiltinForecaster().need(without, hours))
    assert all(kw <= 0 for kw in need.values())  # 50 households alone fit the transformer


def test_winter_cold_raises_heating_load_and_there_is_no_surplus():
    hours = local_day_hours(date(2027, 1, 12), OSLO)
    area = GridArea(**{**ev_neighbourhood().__dict__, "resources": {"HVAC": 50}})
    forecaster = BuiltinForecaster()
    cold = forecaster.net_load(
        GridArea(**{**area.__dict__, "params": {"temperature_c": -15}}), hours
    )
    mild = forecaster.net_load(GridArea(**{**area.__dict__, "params": {"temperature_c": 5}}), hours)
    # 50 units × 0.12 kW/K × 20 K = 120 kW more every hour
    assert [c - m for c, m in zip(cold, mild, strict=True)] == pytest.approx([120.0] * 24)
    assert min(forecaster.net_load(area, hours)) > 0


def test_imported_hours_override_the_forecast_and_lpc_when_shifting_is_not_enough():
    area = ev_neighbourhood()
    hours = local_day_hours(date(2027, 6, 15), OSLO)
    built = BuiltinForecaster().need(area, hours)
    need = combined_need(BuiltinForecaster(), area, hours, {hours[3]: 80.0, hours[12]: 0.0})
    assert need[3] == 80.0 and need[12] == 0.0
    assert [n for i, n in enumerate(need) if i not in (3, 12)] == [
        n for i, n in enumerate(built) if i not in (3, 12)
    ]
    # the margin: a quarter of 120 kW
    assert lpc_hours(area, hours, [0, 30.0, 30.1, -200] + [0] * 20) == [hours[2]]


def test_need_prices_follow_the_need_in_sign_and_size():
    assert need_prices([0, 60, -30, 240, -500], 120, "NOK") == [0, 0.5, -0.25, 1.0, -1.0]
    assert need_prices([0, 60, -30], 120, "EUR") == [0, 0.05, -0.025]
    assert need_prices([10, -40], None, "SEK") == [0.25, -1.0]  # no capacity: the day's largest


def test_forecast_files_csv_and_json():
    csv_text = (
        "neighbourhoodId,timestamp,needKw\n"
        "a,2027-03-28T00:00:00+01:00,5\n"
        "b,2027-03-28T01:00:00Z,-2.5\n"
    )
    rows = forecast_file.parse(csv_text.encode())
    assert [(r.neighbourhood_id, r.hour, r.need_kw) for r in rows] == [
        ("a", datetime(2027, 3, 27, 23, tzinfo=UTC), 5.0),
        ("b", datetime(2027, 3, 28, 1, tzinfo=UTC), -2.5),
    ]
    doc = '{"needs": [{"neighbourhoodId": "a", "timestamp": "2027-03-28T01:00:00Z", "needKw": 1}]}'
    assert forecast_file.parse(doc)[0].need_kw == 1.0
    for bad, field in (
        ("neighbourhoodId,timestamp\na,2027-03-28T00:00:00Z\n", "needs"),
        (
            '[{"neighbourhoodId": "a", "timestamp": "2027-03-28T00:00:00Z", "needKw": NaN}]',
            "needKw",
        ),
        ('[{"neighbourhoodId": "", "timestamp": "2027-03-28T00:00:00Z", "needKw": 1}]', "Id"),
        ("[]", "needs"),
        ("[1]", "needs[0]"),
    ):
        with pytest.raises(forecast_file.ForecastFileError) as exc:
            forecast_file.parse(bad)
        assert field in (exc.value.field or "")


def test_schedule_setting_and_what_is_due():
    schedule = parse_schedule("12:00 FI=13:30")
    assert schedule["NO1"] == time(12) and schedule["FI"] == time(13, 30)
    assert parse_schedule("") == {} and parse_schedule("off") == {}
    assert parse_schedule("FI=13:00") == {"FI": time(13)}
    for bad in ("noon", "XX=12:00", "FI=25:00"):
        with pytest.raises(ValueError):
            parse_schedule(bad)
    # 11:30 UTC = 12:30 in Oslo (winter) and 13:30 in Helsinki
    now = datetime(2027, 1, 12, 11, 30, tzinfo=UTC)
    assert due(schedule, {"NO1", "FI"}, now) == [
        ("FI", date(2027, 1, 13)),
        ("NO1", date(2027, 1, 13)),
    ]
    early = datetime(2027, 1, 12, 10, 59, tzinfo=UTC)  # 11:59 in Oslo, 12:59 in Helsinki
    assert due(schedule, {"NO1", "FI"}, early) == []
    # late in the local evening it is still the next local day
    assert due(schedule, {"NO1"}, datetime(2027, 1, 12, 22, 30, tzinfo=UTC)) == [
        ("NO1", date(2027, 1, 13))
    ]


def test_the_bulk_payload_is_the_checked_payload():
    from flexhub.platform.engines import price_curves
    from flexhub.wire.coordination.events import PriceCurvePayload

    hours = local_day_hours(date(2027, 10, 31), OSLO)
    delta = price_curves.curve("NO1", zip(hours, need_prices([5.0] * 25, 10.0, "NOK"), strict=True))
    targets = [("r1", "l1"), ("v1", "l2")]
    bulk = price_curves.payload_json("NO1", targets, delta.model_dump(mode="json"))
    checked = price_curves.payload("NO1", targets, delta).model_dump(mode="json")
    assert bulk == checked
    assert PriceCurvePayload.model_validate(bulk).model_dump(mode="json") == checked

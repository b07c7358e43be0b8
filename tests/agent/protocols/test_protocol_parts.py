"""The protocol side's pure parts: energy per hour from readings, schedules as periods, OCPP
profiles and meter values, FRBC mode choice and PEBC envelopes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from s2python.common import CommodityQuantity, NumberRange
from s2python.pebc import (
    PEBCAllowedLimitRange,
    PEBCPowerConstraints,
    PEBCPowerEnvelopeConsequenceType,
    PEBCPowerEnvelopeLimitType,
)

from flexhub.agent.optimize.devices import Horizon
from flexhub.agent.protocols.hourly import HourlyEnergy
from flexhub.agent.protocols.ocpp import meter
from flexhub.agent.protocols.ocpp.profiles import build, limit_value, to_v16, to_v201
from flexhub.agent.protocols.ocpp.state import Purpose, StationConfig
from flexhub.agent.protocols.periods import OPEN_END, Period, capped, periods_of, remaining
from flexhub.agent.protocols.s2.frbc import ModeRange, choose
from flexhub.agent.protocols.s2.pebc import envelope

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_energy_between_readings_is_split_over_the_hours_it_spans():
    e = HourlyEnergy()
    e.register(T0 + timedelta(minutes=30), 100.0)
    e.register(T0 + timedelta(minutes=90), 103.0)  # 3 kWh over an hour: half in each
    e.register(T0 + timedelta(minutes=100), 102.0)  # a reset: the new base
    e.register(T0 + timedelta(minutes=110), 102.5)
    e.register(T0 + timedelta(minutes=105), 999.0)  # older than the last one: ignored
    assert e.by_hour() == {T0: pytest.approx(1.5), T0 + H: pytest.approx(2.0)}
    assert e.imported_kwh == pytest.approx(3.5)
    e.register(T0 + 2 * H, 102.5)  # metered, nothing used: the hour is there, with 0
    assert e.by_hour(T0 + H, T0 + 2 * H) == {T0 + H: pytest.approx(2.0)}
    e.register(T0 + 3 * H, 102.5)
    assert e.by_hour()[T0 + 2 * H] == 0.0


def test_power_samples_hold_until_the_next_and_export_is_booked_apart():
    e = HourlyEnergy()
    e.power(T0, 2.0)
    e.power(T0 + timedelta(minutes=30), -4.0)
    e.power(T0 + timedelta(minutes=45), 0.0)
    e.power(T0 + timedelta(minutes=50), 6.0)
    e.hold_until(T0 + timedelta(minutes=60))  # lost: held until then, not after
    e.power(T0 + timedelta(minutes=90), 1.0)  # back: a new start, nothing before it
    e.power(T0 + timedelta(minutes=120), 1.0)
    assert e.by_hour() == {T0: pytest.approx(1.0 - 1.0 + 1.0), T0 + H: pytest.approx(0.5)}
    assert e.exported_by_hour() == {T0: pytest.approx(1.0)}
    assert (e.imported_kwh, e.exported_kwh) == (pytest.approx(2.5), pytest.approx(1.0))
    e.drop_before(T0 + H)
    assert list(e.by_hour()) == [T0 + H]


def test_a_schedule_becomes_periods_of_equal_steps():
    h = Horizon(T0, 5, dt=0.25)
    periods = periods_of(h, [1, 1, 2, 2, 0])
    assert periods == (
        Period(T0, T0 + timedelta(minutes=30), 1.0),
        Period(T0 + timedelta(minutes=30), T0 + timedelta(minutes=60), 2.0),
        Period(T0 + timedelta(minutes=60), T0 + timedelta(minutes=75), 0.0),
    )
    with pytest.raises(ValueError):
        periods_of(h, [1, 2])
    with pytest.raises(ValueError):
        periods_of(h, [1, 2, float("nan"), 0, 0])
    left = remaining(periods, T0 + timedelta(minutes=40))
    assert left[0] == Period(T0 + timedelta(minutes=40), T0 + timedelta(minutes=60), 2.0)
    cap = (Period(T0 + timedelta(minutes=15), T0 + timedelta(minutes=45), 1.5),)
    assert [(p.start.minute, p.kw) for p in capped(periods, cap)] == [
        (0, 1.0),
        (30, 1.5),
        (45, 2.0),
        (0, 0.0),
    ]


def test_a_profile_covers_what_is_left_of_a_schedule_in_the_stations_unit():
    config = StationConfig("pw", rate_unit="W", max_periods=2, stack_level=3)
    periods = periods_of(Horizon(T0, 3, dt=1.0), [3.0, -1.0, 7.0])
    spec = build(Purpose.TX, 1, periods, T0 + timedelta(minutes=20, microseconds=5), config, "tx")
    assert spec.start == T0 + timedelta(minutes=20)
    assert spec.offsets == (0, 2400)  # from now, and no more periods than the station takes
    assert spec.limits_kw == (3.0, 0.0)  # no feeding back over OCPP 2.0.1
    assert spec.duration_s == 2400 + 3600 and spec.transaction_id == "tx"
    v201 = to_v201(spec, config)
    assert v201.charging_profile_purpose == "TxProfile" and v201.stack_level == 3
    assert [p.limit for p in v201.charging_schedule[0].charging_schedule_period] == [3000.0, 0.0]
    v16 = to_v16(build(Purpose.TX, 1, periods, T0, config, "42"), config)
    assert v16.transaction_id == 42 and v16.charging_schedule.duration == 7200
    assert build(Purpose.TX, 1, periods, T0 + 3 * H, config) is None
    setpoint = build(Purpose.TX_DEFAULT, 2, (Period(T0, OPEN_END, 5.0),), T0, config)
    assert setpoint.duration_s is None and setpoint.transaction_id is None
    amps = StationConfig("pw", rate_unit="A", voltage=230, phases=1)
    assert limit_value(2.3, amps) == 10.0 and limit_value(2.3, config) == 2300.0


def test_meter_values_of_both_versions():
    v201 = [
        {
            "timestamp": "2026-03-01T10:00:00Z",
            "sampled_value": [
                {
                    "value": 1.5,
                    "measurand": "Energy.Active.Import.Register",
                    "unit_of_measure": {"unit": "kWh"},
                },
                {"value": 1000.0, "measurand": "Power.Active.Import", "phase": "L1"},
                {"value": 2000.0, "measurand": "Power.Active.Import", "phase": "L2"},
                {"value": 55.0, "measurand": "SoC", "location": "EV"},
                {"value": 9.0, "measurand": "Voltage"},
                {"value": 5.0, "measurand": "Energy.Active.Import.Register", "location": "Inlet"},
            ],
        }
    ]
    (r,) = meter.read(v201)
    assert (r.at, r.import_kwh, r.power_kw, r.soc_percent) == (T0, 1.5, 3.0, 55.0)
    power = {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"}
    v16 = [{"timestamp": "2026-03-01T10:00:00Z", "sampled_value": [{"value": "1234"}, power]}]
    (r,) = meter.read(v16)
    assert (r.import_kwh, r.power_kw) == (1.234, 7.4)
    assert (
        meter.read([{"timestamp": "2026-03-01T10:00:00Z", "sampled_value": [{"value": "x"}]}]) == []
    )


def test_frbc_picks_the_closest_mode_and_its_factor():
    a = uuid.uuid4()
    charge, idle, discharge = (
        ModeRange(a, uuid.uuid4(), n, w0, w1)
        for n, w0, w1 in [("charge", 0, 5000), ("idle", 0, 0), ("discharge", -5000, 0)]
    )
    modes = [charge, idle, discharge]
    assert (choose(modes, 2.0).mode_id, choose(modes, 2.0).factor) == (charge.mode_id, 0.4)
    assert choose(modes, 0.0).mode_id == idle.mode_id  # the narrowest on a tie
    low = choose(modes, -1.0)
    assert (low.mode_id, low.factor, low.kw) == (discharge.mode_id, 0.8, -1.0)
    over = choose(modes, 9.0)
    assert (over.factor, over.kw, over.clipped) == (1.0, 5.0, True)


def test_pebc_envelopes_stay_in_the_allowed_ranges():
    constraints = PEBCPowerConstraints(
        message_id=uuid.uuid4(),
        id=uuid.uuid4(),
        valid_from=T0,
        consequence_type=PEBCPowerEnvelopeConsequenceType.DEFER,
        allowed_limit_ranges=[
            PEBCAllowedLimitRange(
                commodity_quantity=CommodityQuantity.ELECTRIC_POWER_L1,
                limit_type=kind,
                range_boundary=NumberRange(start_of_range=0, end_of_range=7400),
                abnormal_condition_only=False,
            )
            for kind in (
                PEBCPowerEnvelopeLimitType.UPPER_LIMIT,
                PEBCPowerEnvelopeLimitType.LOWER_LIMIT,
            )
        ],
    )
    periods = (Period(T0, T0 + H, 3.7), Period(T0 + H, T0 + 2 * H, 11.0))
    message, clipped = envelope(constraints, periods)
    elements = message.power_envelopes[0].power_envelope_elements
    assert [(e.lower_limit, e.upper_limit, e.duration.root) for e in elements] == [
        (0, 3700, 3_600_000),
        (0, 7400, 3_600_000),
    ]
    assert clipped == (T0 + H,) and message.power_constraints_id == constraints.id
    held, _ = envelope(constraints, (Period(T0, OPEN_END, 2.0),), hold=True)
    (element,) = held.power_envelopes[0].power_envelope_elements
    assert (element.lower_limit, element.upper_limit) == (2000, 2000)
    assert element.duration.root == 365 * 24 * 3_600_000

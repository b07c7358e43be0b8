"""What each asset can deliver of an instruction, and the split (pure rules)."""

from __future__ import annotations

import pytest

from flexhub.agent.allocation import allocate, capability


def cap(asset_id: str, **overrides):
    args = dict(
        direction="deficit",
        available=True,
        import_kw=100.0,
        export_kw=100.0,
        limit_import_kw=100.0,
        limit_export_kw=100.0,
        hours=1.0,
        energy_in_kwh=1000.0,
        energy_out_kwh=1000.0,
        lead_s=600.0,
    )
    args.update(overrides)
    return capability(asset_id, **args)


def test_stored_energy_limits_what_a_battery_delivers_over_the_window():
    c = cap("b", energy_out_kwh=60.0, hours=2.0)
    assert c.kw == pytest.approx(30.0)
    assert "stored energy" in c.reason


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"available": False, "unavailable_reason": "fault"}, "unavailable (fault)"),
        ({"response_s": 900.0}, "to respond"),
        ({"min_runtime_s": 7200.0}, "minimum runtime"),
        ({"max_runtime_s": 1800.0}, "maximum runtime"),
    ],
)
def test_assets_that_cannot_take_part(overrides, why):
    c = cap("a", **overrides)
    assert c.kw == 0 and why in c.reason


def test_direction_picks_import_or_export():
    assert cap("a", direction="excess", import_kw=40.0).kw == 40.0
    assert cap("a", direction="deficit", export_kw=25.0).kw == 25.0
    assert cap("a", direction="deficit", export_kw=80.0, limit_export_kw=50.0).kw == 50.0


def test_split_in_proportion_and_signed_by_direction():
    plan = allocate(150.0, "deficit", [cap("a", export_kw=100.0), cap("b", export_kw=50.0)])
    assert plan.feasible
    assert plan.setpoints == pytest.approx({"a": -100.0, "b": -50.0})
    plan = allocate(60.0, "excess", [cap("a", direction="excess"), cap("b", direction="excess")])
    assert plan.setpoints == pytest.approx({"a": 30.0, "b": 30.0})


def test_shortfall_and_declared_availability_refuse():
    short = allocate(500.0, "deficit", [cap("a"), cap("b", available=False)])
    assert not short.feasible and short.setpoints == {}
    assert "0.100 MW of the 0.500 MW" in short.refusal() and "b: unavailable" in short.refusal()
    capped = allocate(150.0, "deficit", [cap("a"), cap("b")], declared_cap_kw=120.0)
    assert not capped.feasible and "declared availability 0.120 MW" in capped.refusal()


def test_what_other_instructions_hold_is_not_offered_again():
    c = cap("a", export_kw=100.0, held_kw=70.0)
    assert c.kw == pytest.approx(30.0) and "70.0 kW held" in c.reason
    # a battery's stored energy is held too: 100 kWh over 2 h, 40 kW of it held
    c = cap("b", export_kw=100.0, energy_out_kwh=100.0, hours=2.0, held_kw=40.0)
    assert c.kw == pytest.approx(10.0)

"""The demo's day at a small size, through the same code as ``make demo`` (``scenario.play``
and ``figures.collect``), and the invariants it must keep: every instruction delivered once,
nothing acted on without verification, the over-large instruction rejected, the stopped one
released, shifted energy in the direction of every delta, every LPC respected, compensation
equal to the README's rule applied to the reports the agent sent."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from flexhub.demo import figures
from flexhub.demo.homes import ZONE
from flexhub.platform.engines.forecast import GridArea
from flexhub.platform.engines.load_model import temperature, typical_kw
from flexhub.wire.coordination.events import NOTIFICATION_TYPES
from support.demo import played_day

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def day(tmp_path_factory):
    # a slower day than the demo's: on a busy machine a webhook's second of wall time is
    # then a few minutes of the day, not half an hour (a stop must land inside its window)
    async for got in played_day(
        tmp_path_factory.mktemp("demo"), size=16, seed=7, day_seconds=100.0
    ):
        yield got


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_every_flow_happened(day):
    played, got = day
    assert got.problems() == []
    assert len(got.instructions) == 3 and got.curves and got.limits


async def test_every_instruction_delivered_once_and_verified(day):
    played, got = day
    messages = await played.agent.store.messages()
    for i in got.instructions:
        assert i.deliveries == 1, i.name  # the platform: delivered once to the provider
        assert i.inbox == 1, i.name  # the agent: stored once
        seen = await played.so.get_dispatch(i.id)
        assert seen.signature and seen.signature_algorithm == "Ed25519"
    # the agent stores only what passed verification (HMAC, JWS, SO signature), and acts
    # only on what it stored: every instruction it answered and every event it reported on
    assert played.agent.config.flex_market.require_so_signature
    assert got.rejected_webhooks == 0
    subjects = {m["subject"] for m in messages}
    for row in await played.agent.store.dispatches():
        assert row["instruction_id"] in subjects
    for report in await played.agent.store.reports():
        assert report["event_id"] in subjects
    # every event of a type it subscribed to reached it (a UserEligibility event of the
    # platform's 10-minute cycle may fall inside the day: the agent does not subscribe to those)
    wanted = set(played.agent.config.coordination.notification_types)
    events = [
        e
        async for e in played.ec.iter_events()
        if NOTIFICATION_TYPES[e.payload.payloadType] in wanted
    ]
    assert events and {e.id for e in events} <= subjects


async def test_the_homes_eligibility_reached_the_provider_as_one_netted_event(day):
    played, got = day
    # the demo's platform runs its eligibility cycle every 15 s: the homes registered at the
    # start of the day reach the provider as UserEligibility events whose additions, net of
    # removals, are exactly the users the eligibility endpoint lists
    events = [
        e.payload
        async for e in played.ec.iter_events()
        if e.payload.payloadType == "UserEligibility"
    ]
    assert events
    added = {u for p in events for u in p.addedUsers}
    removed = {u for p in events for u in p.removedUsers}
    eligible = {u.userId async for u in played.ec.iter_eligible_users()}
    assert eligible and added - removed == eligible
    assert eligible == {h.user_id for h in played.fleet.homes}


async def test_the_oversized_instruction_is_rejected_and_nothing_runs(day):
    played, got = day
    oversized = got.by_name("oversized")
    assert oversized.status == "rejected"
    assert f"of the {oversized.requested_mw:.3f} MW instructed" in (oversized.reason or "")
    row = await played.agent.store.dispatch(oversized.id)
    assert row["state"] == "rejected" and row["allocation"] == {}


async def test_the_stopped_instruction_is_released_at_its_stop(day):
    played, got = day
    evening = got.by_name("evening")
    assert evening.status == "accepted" and evening.stopped_at is not None
    assert evening.stopped_at < evening.end
    row = await played.agent.store.dispatch(evening.id)
    assert row["state"] == "done"
    assert row["end"] == evening.stopped_at.timestamp()
    driver = played.agent.fleet.drivers["sim"]
    released = {c.asset_id for c in driver.commands if c.kind == "power" and c.value is None}
    assert set(row["allocation"]) <= released
    assert all(kwh > 0 for kwh in row["delivered"].values())
    morning = got.by_name("morning")
    assert morning.status == "accepted" and morning.delivered_kwh > 0


async def test_energy_moves_in_the_direction_of_every_delta(day):
    played, got = day
    for curve in got.curves:
        rows = list(zip(curve.after_kwh, curve.before_kwh, curve.delta, strict=True))
        up = [a - b for a, b, d in rows if d > 0]
        down = [a - b for a, b, d in rows if d < 0]
        assert up or down
        if up:  # the grid asked for less: less was drawn in those hours
            assert sum(up) < 0, curve.neighbourhood
        if down:  # the grid asked for more: more was drawn in those hours
            assert sum(down) > 0, curve.neighbourhood


async def test_every_power_limit_is_acknowledged_and_kept(day):
    played, got = day
    assert any(lim.requested for lim in got.limits)
    for lim in got.limits:
        assert lim.acknowledged and lim.state == "Acknowledged"
        assert len(lim.load_kwh) == len(lim.hours)
        for kwh, kw in zip(lim.load_kwh, lim.limit_kw, strict=True):
            assert kwh <= kw + 1e-6  # an hour's energy at most the limit times one hour


def _areas(played) -> dict[str, GridArea]:
    """Each neighbourhood as the compensation rule's climatology sees it (its outer ring's
    mean vertex as its centre)."""
    out = {}
    for feature in played.fleet.feature_collection()["features"]:
        ring = feature["geometry"]["coordinates"][0][:-1]
        props = feature["properties"]
        out[feature["id"]] = GridArea(
            feature["id"],
            props["priceArea"],
            props["currency"],
            props["timeZone"],
            props["capacityKw"],
            sum(p[1] for p in ring) / len(ring),
            sum(p[0] for p in ring) / len(ring),
            props["params"],
        )
    return out


async def test_compensation_is_the_readme_rule_applied_to_the_reports(day):
    """README: with no history, the baseline is the resource type's typical usage in that local
    hour; each hour pays ``max(0, (baseline - usage) × delta)``."""
    played, got = day
    zone = ZoneInfo(ZONE)
    areas = _areas(played)
    kinds = {a.asset_id: a.resource_type for h in played.fleet.homes for a in h.assets}
    home_of = {a.asset_id: h for h in played.fleet.homes for a in h.assets}
    expected: dict[str, float] = defaultdict(float)  # one location per user
    for curve in got.curves:
        price = dict(zip(curve.hours, curve.delta, strict=True))
        for report in await played.agent.store.reports(curve.event_id):
            if not report["key"].startswith("EnergyUsage"):
                continue
            assert report["platform_id"]  # accepted by the platform
            for payload in report["body"]["payloads"]:
                rid = payload["resourceId"]
                home = home_of[rid]
                for point in payload["points"]:
                    when = _instant(point["timestamp"])
                    outdoor = temperature(areas[home.area], when, zone)
                    base = typical_kw(kinds[rid], when.astimezone(zone).hour, outdoor)
                    paid = max(0.0, (base - point["kiloWattHours"]) * price[when])
                    expected[home.user_id] += paid
    assert sum(expected.values()) > 0
    for home in played.fleet.homes:
        answer = await played.ec.get_compensation(home.user_id)
        active = sum(c.activeAmount for c in answer.locationCompensations)
        # the API states amounts in cents
        assert active == pytest.approx(expected[home.user_id], abs=0.005 + 1e-9), home.user_id
    total = sum(v for per in got.compensation.values() for v in per.values())
    assert total == pytest.approx(sum(expected.values()), abs=0.005 * len(played.fleet.homes))


async def test_the_summary_and_report_read_the_same_figures(day, tmp_path):
    from flexhub.demo import report, summary

    played, got = day
    path = tmp_path / "demo-report.html"
    report.write(got, played, path)
    text = path.read_text(encoding="utf-8")
    assert "https://" not in text.split("<script>")[0]  # nothing fetched: all inlined
    assert text.count('data-plot="curve-') == len(got.curves)
    assert 'data-plot="dispatch"' in text and 'data-plot="limit-0"' in text
    again = await figures.collect(played)
    assert again.moved() == pytest.approx(got.moved())
    assert summary.summary(got) is not None

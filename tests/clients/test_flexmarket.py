"""The two Flex Market clients against the platform on loopback: a system operator opens a
competition, awards an obligation and issues signed instructions; the provider reads, answers
and declares availability; subscriptions are ensured; both paging, token refresh and
re-authentication; error bodies."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flexhub import signing
from flexhub.clients import ApiError, FlexMarketOperatorClient, FlexMarketProviderClient, collect
from flexhub.wire.flexmarket.assets import AssetOut
from flexhub.wire.flexmarket.dispatches import InstructionOut, SoInstructionOut
from flexhub.wire.flexmarket.webhooks import EVENT_TYPES, INSTRUCTION_EVENTS
from support.clients import ManualClock, new_partner, revoke, until
from support.fm import asset_body, competition_body, now, obligation_body


def provider_client(platform, creds, **kw) -> FlexMarketProviderClient:
    return FlexMarketProviderClient(
        platform.base_url, client_id=creds.client_id, api_key=creds.secret, **kw
    )


def operator_client(platform, creds, **kw) -> FlexMarketOperatorClient:
    return FlexMarketOperatorClient(
        platform.base_url, client_id=creds.client_id, api_key=creds.secret, **kw
    )


@pytest.fixture
async def market(client_platform, client_db):
    """A provider with three assets, an SO (with its signing key) and an obligation on two of
    the assets; both clients open."""
    key = signing.generate_private_key()
    fsp_creds = await new_partner(client_db, "provider")
    so_creds = await new_partner(client_db, "system_operator")
    async with (
        provider_client(client_platform, fsp_creds) as fsp,
        operator_client(client_platform, so_creds, signing_key=key) as so,
    ):
        assets = [await fsp.create_asset(asset_body(name=f"Battery {n}")) for n in range(3)]
        competition = await so.create_competition(competition_body())
        obligation = await so.award_obligation(
            obligation_body(
                competition.model_dump(), assets[0].provider, [a.id for a in assets[:2]]
            )
        )
        yield fsp, so, key, assets, competition, obligation, fsp_creds


def _window(hours_ahead: int = 1):
    start = now().replace(microsecond=0) + timedelta(hours=hours_ahead)
    return {"start": start, "end": start + timedelta(hours=1)}


async def test_assets_obligations_and_competition(market):
    fsp, so, _, assets, competition, obligation, _ = market
    listed = await collect(fsp.iter_assets(limit=2))  # two pages
    assert all(isinstance(a, AssetOut) for a in listed)
    assert sorted(a.id for a in listed) == sorted(a.id for a in assets)
    assert [a.id for a in await collect(fsp.iter_assets(ref=assets[1].ref))] == [assets[1].id]
    patched = await fsp.update_asset(assets[2].id, {"status": "mothballed"})
    assert patched.status == "mothballed" and (await fsp.get_asset(assets[2].id)).status == (
        "mothballed"
    )

    mine = await collect(fsp.iter_obligations(competition_id=competition.id))
    assert [o.id for o in mine] == [obligation.id]
    starts = date.fromisoformat(obligation.start)  # dates go out as YYYY-MM-DD
    assert [o.id async for o in fsp.iter_obligations(start_since=starts)] == [obligation.id]
    assert [o async for o in fsp.iter_obligations(start_to=starts - timedelta(days=1))] == []
    assert (await fsp.get_obligation(obligation.id)).capacity == obligation.capacity
    obligated = await collect(fsp.iter_obligation_assets(obligation.id, limit=1))
    assert sorted(a.id for a in obligated) == sorted(a.id for a in assets[:2])
    assert (await fsp.get_competition(competition.id)).ref == competition.ref

    assert competition.id in {c.id async for c in so.iter_competitions(limit=1)}
    assert (await so.get_competition(competition.id)).name == competition.name
    assert [o.id async for o in so.iter_obligations(competition_id=competition.id)] == [
        obligation.id
    ]
    assert (await so.get_obligation(obligation.id)).provider == assets[0].provider


async def test_signed_instructions_answered_stopped_and_delivered(market, receiver):
    fsp, so, key, _, _, obligation, _ = market
    subscription = await fsp.ensure_subscription(receiver.url, INSTRUCTION_EVENTS)

    window = _window(1)  # once: a repeat sends the same fields
    issued = await so.issue_dispatch(
        obligation.id, capacity="1.000", need_direction="deficit", **window
    )
    again = await so.issue_dispatch(
        obligation.id,
        capacity="1.000",
        need_direction="deficit",
        so_reference=issued.so_reference,
        **window,
    )
    assert again.id == issued.id  # the same so_reference: the first instruction

    seen = await fsp.get_dispatch(issued.id)
    assert isinstance(seen, InstructionOut) and seen.status == "pending"
    signing.so_verify(
        seen.model_dump(), seen.signature, seen.signature_algorithm, [key.public_key()]
    )
    assert (await fsp.accept_dispatch(issued.id)).status == "accepted"

    second = await so.issue_dispatch(
        obligation.id, capacity="0.500", need_direction="deficit", **_window(3)
    )
    rejected = await fsp.reject_dispatch(second.id, "battery offline")
    assert (rejected.status, rejected.reason) == ("rejected", "battery offline")
    assert [d.id async for d in fsp.iter_dispatches(status="rejected")] == [second.id]

    stop = await so.stop_dispatch(issued)
    assert (stop.instruction_type, stop.stops) == ("stop", issued.id)
    signing.so_verify(
        stop.model_dump(), stop.signature, stop.signature_algorithm, [key.public_key()]
    )
    answered = await so.get_dispatch(second.id)
    assert isinstance(answered, SoInstructionOut) and answered.reason == "battery offline"

    async def delivered():
        detail = await so.get_dispatch(issued.id)
        return detail if any(d.status == "delivered" for d in detail.webhook_deliveries) else None

    detail = await until(delivered)
    assert detail is not None, "the instruction's webhook was never delivered"
    event_id = next(d.event_id for d in detail.webhook_deliveries if d.status == "delivered")
    attempts = await collect(fsp.iter_deliveries(event_id=event_id))
    assert attempts and all(a.subscription_id == subscription.id for a in attempts)
    listed = {d.id async for d in so.iter_dispatches(obligation_id=obligation.id, limit=1)}
    assert {issued.id, second.id, stop.id} <= listed


async def test_availability_variations_both_sides(market):
    fsp, so, _, _, _, obligation, _ = market
    window = _window(2)
    declared = await fsp.declare_availability_variation(
        obligation.id, available_capacity="0.750", reason="maintenance", **window
    )
    assert declared.available_capacity == "0.750"
    assert [v.id async for v in fsp.iter_availability_variations(obligation.id)] == [declared.id]
    assert [v.id async for v in so.iter_availability_variations(obligation_id=obligation.id)] == [
        declared.id
    ]


async def test_ensure_subscription_leaves_exactly_one(market, receiver):
    fsp = market[0]
    first = await fsp.ensure_subscription(receiver.url, INSTRUCTION_EVENTS)
    assert (await fsp.ensure_subscription(receiver.url, INSTRUCTION_EVENTS)).id == first.id
    await fsp.create_subscription(receiver.url, ["obligation.created"])
    await fsp.update_subscription(first.id, active=False)
    kept = await fsp.ensure_subscription(receiver.url, EVENT_TYPES)
    same_url = [s async for s in fsp.iter_subscriptions() if s.url == receiver.url]
    assert [s.id for s in same_url] == [kept.id]
    assert sorted(kept.events) == sorted(EVENT_TYPES) and kept.active
    assert (await fsp.get_subscription(kept.id)).events == kept.events
    await fsp.delete_subscription(kept.id)
    assert [s async for s in fsp.iter_subscriptions()] == []


async def test_webhook_keys_need_no_token(client_platform, client_db):
    creds = await new_partner(client_db, "provider")
    async with provider_client(client_platform, creds) as fsp:
        key = await fsp.get_public_key()
        jwks = await fsp.get_jwks()
        assert fsp.api.tokens.fetches == 0
    assert key.kid in {k["kid"] for k in jwks.keys}
    signing.load_public_key(key.public_key)


async def test_error_bodies(market):
    fsp, so, _, _, _, obligation, _ = market
    with pytest.raises(ApiError) as err:
        await fsp.accept_dispatch("no-such-instruction")
    assert err.value.status == 404 and set(err.value.body) == {"detail"}
    with pytest.raises(ApiError) as err:
        await fsp.create_asset({"ref": "r", "name": "n", "active_export_capacity": "lots"})
    assert err.value.status == 400 and "active_export_capacity" in err.value.body
    assert "active_export_capacity" in err.value.detail
    issued = await so.issue_dispatch(
        obligation.id, capacity="1.000", need_direction="deficit", **_window(5)
    )
    await fsp.accept_dispatch(issued.id)
    with pytest.raises(ApiError) as err:
        await fsp.reject_dispatch(issued.id, "changed my mind")
    assert err.value.status == 409 and err.value.detail == err.value.body["detail"]


async def test_token_refresh_and_reauthentication(client_platform, client_db):
    clock = ManualClock()
    creds = await new_partner(client_db, "provider")
    async with provider_client(client_platform, creds, wall_clock=clock) as fsp:
        await collect(fsp.iter_assets())
        first = fsp.api.tokens.current
        # the lifetime is read from the token's exp claim: the platform's hour (the claim is
        # in whole seconds, and this clock stood still since before the token was issued)
        assert abs(first.lifetime - timedelta(hours=1)) < timedelta(minutes=1)
        clock.advance(first.lifetime.total_seconds() - 30)
        await collect(fsp.iter_assets())
        assert fsp.api.tokens.fetches == 2 and fsp.api.reauthentications == 0
        await revoke(client_db, client_platform, creds.partner_id)
        await collect(fsp.iter_assets())
        assert fsp.api.tokens.fetches == 3 and fsp.api.reauthentications == 1

"""Contractual obligations: awarded by a system operator to a provider under one of the SO's
competitions and service windows; read by that provider (and by the SO)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.events import create_event
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.schemas.filters import ObligationFilters
from flexhub.platform.flexmarket.services import lifecycle
from flexhub.platform.flexmarket.services.competitions import check_direction
from flexhub.platform.flexmarket.services.queries import one_or_404, scoped
from flexhub.store.flexmarket import (
    FmAsset,
    FmCompetition,
    FmObligation,
    FmServicePeriod,
    FmServiceWindow,
)
from flexhub.store.partners import Partner
from flexhub.wire.flexmarket.assets import AssetOut
from flexhub.wire.flexmarket.obligations import RATE_TYPES, ObligationIn, ObligationOut


def local_midnight(day: date, timezone: str) -> datetime:
    """The start of ``day`` in ``timezone``, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _rates(e: Errors, body: ObligationIn) -> list[dict[str, str]]:
    seen: set[str] = set()
    rates = []
    for i, rate in enumerate(body.rates):
        kind = e.choice(rate.type, f"rates[{i}].type", RATE_TYPES)
        if kind in seen:
            e.add(f"rates[{i}].type", "each rate type may appear once")
        seen.add(kind or "")
        e.decimal(rate.value, f"rates[{i}].value", non_negative=True)
        rates.append({"type": rate.type, "value": rate.value})
    return rates


def _check_planned(e: Errors, planned: list[str]) -> None:
    """Planned assets are not registered here: only their ids' shape is checked."""
    if len(set(planned)) != len(planned):
        e.add("assets.planned", "lists an asset more than once")
    for i, asset_id in enumerate(planned):
        e.text(asset_id, f"assets.planned[{i}]", max_length=64)


async def _check_assets(
    session: AsyncSession, e: Errors, provider_id: str, flex: list[str]
) -> None:
    if len(set(flex)) != len(flex):
        e.add("assets.flex", "lists an asset more than once")
    if not flex:
        return
    known = set(
        (
            await session.scalars(
                select(FmAsset.id).where(
                    FmAsset.provider_tenant_id == provider_id, FmAsset.id.in_(flex)
                )
            )
        ).all()
    )
    unknown = [a for a in flex if a not in known]
    if unknown:
        e.add("assets.flex", f"not assets of this provider: {', '.join(unknown)}")


@dataclass(frozen=True)
class CheckedAward:
    """An award request with every value checked: the competition, service period and window
    it names, and its parsed dates, capacity, runtime and rates."""

    body: ObligationIn
    competition: FmCompetition
    period: FmServicePeriod
    window: FmServiceWindow
    start: date
    end: date
    max_runtime: int | None
    rates: list[dict[str, str]]


async def _window_of(
    session: AsyncSession, e: Errors, comp: FmCompetition, window_id: str
) -> tuple[FmServiceWindow, FmServicePeriod] | None:
    found = (
        await session.execute(
            select(FmServiceWindow, FmServicePeriod)
            .join(FmServicePeriod, FmServicePeriod.id == FmServiceWindow.period_id)
            .where(FmServiceWindow.id == window_id, FmServiceWindow.competition_id == comp.id)
        )
    ).first()
    if found is None:
        e.add("service_window_id", "no such service window in this competition")
        return None
    return found[0], found[1]


async def check_award(session: AsyncSession, so_tenant_id: str, body: ObligationIn) -> CheckedAward:
    """Every field of the request checked (one 400 naming each bad field)."""
    e = Errors()
    comp = await session.scalar(
        select(FmCompetition).where(
            FmCompetition.id == body.competition_id, FmCompetition.so_tenant_id == so_tenant_id
        )
    )
    if comp is None:
        e.add("competition_id", "no such competition of yours")
    partner = await session.get(Partner, body.provider)
    if partner is None or partner.role != "provider" or partner.disabled:
        e.add("provider", "no such flex provider")
    e.text(body.bid_id, "bid_id")
    found = await _window_of(session, e, comp, body.service_window_id) if comp else None
    start, end = e.date(body.start, "start"), e.date(body.end, "end")
    if start and end and end <= start:
        e.add("end", "must be later than start (the end date is exclusive)")
    if found is not None and start and end:
        period = found[1]
        if start < period.start:
            e.add("start", f"must not be before the service period starts ({period.start})")
        if end > period.end:
            e.add("end", f"must not be after the service period ends ({period.end})")
    e.decimal(body.capacity, "capacity", positive=True)
    if comp is not None and body.need_direction != comp.need_direction:
        e.add("need_direction", f"must be the competition's need direction ({comp.need_direction})")
    elif comp is not None:
        check_direction(e, comp.power_type, body.need_direction, "need_direction")
    max_runtime = None
    if body.max_runtime is not None:
        max_runtime = e.duration(body.max_runtime, "max_runtime")
    rates = _rates(e, body)
    if partner is not None:
        await _check_assets(session, e, partner.id, body.assets.flex)
    _check_planned(e, body.assets.planned)
    e.raise_if_any()
    assert comp is not None and found is not None and start is not None and end is not None
    return CheckedAward(body, comp, found[1], found[0], start, end, max_runtime, rates)


async def award(
    session: AsyncSession, so_tenant_id: str, body: ObligationIn, now: datetime
) -> ObligationOut:
    """Award an obligation under one of the SO's competitions; every field is checked first.
    Publishes ``obligation.created`` to the provider and commits."""
    checked = await check_award(session, so_tenant_id, body)
    comp, window = checked.competition, checked.window
    ob = FmObligation(
        id=str(uuid.uuid4()),
        so_tenant_id=so_tenant_id,
        provider_tenant_id=body.provider,
        competition_id=comp.id,
        bid_id=body.bid_id,
        service_window_id=window.id,
        status="awarded",
        start=checked.start,
        end=checked.end,
        starts_at=local_midnight(checked.start, comp.timezone),
        ends_at=local_midnight(checked.end, comp.timezone),
        service_days=list(window.service_days),
        bank_holidays=window.bank_holidays,
        start_time=window.start_time,
        end_time=window.end_time,
        capacity=body.capacity,
        max_runtime_seconds=checked.max_runtime,
        need_direction=body.need_direction,
        rates=checked.rates,
        assets={"flex": list(body.assets.flex), "planned": list(body.assets.planned)},
        created=now,
        modified=now,
    )
    ob.status = lifecycle.obligation_status(ob, now)
    session.add(ob)
    if not comp.awarded:
        comp.awarded = True
        comp.modified = now
    await session.flush()
    view = mappers.obligation(ob)
    await create_event(session, ob.provider_tenant_id, "obligation.created", view)
    await session.commit()
    return view


def _filtered(query: Any, f: ObligationFilters) -> Any:
    o = FmObligation
    for column, op, value in (
        (o.start, "ge", f.start_since),
        (o.start, "le", f.start_to),
        (o.end, "ge", f.end_since),
        (o.end, "le", f.end_to),
    ):
        if value is not None:
            query = query.where(column >= value if op == "ge" else column <= value)
    if f.competition_id is not None:
        query = query.where(o.competition_id == f.competition_id)
    if f.bid_id is not None:
        query = query.where(o.bid_id == f.bid_id)
    return query.order_by(o.created, o.id)


async def list_obligations(
    session: AsyncSession,
    now: datetime,
    page: Page,
    filters: ObligationFilters,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> tuple[list[ObligationOut], int]:
    """The caller's obligations (a provider's, or an SO's), statuses brought up to date."""
    scope = {"provider_tenant_id": provider_tenant_id, "so_tenant_id": so_tenant_id}
    query = scoped(select(FmObligation), FmObligation, **scope)  # first: refuses no scope
    if await lifecycle.settle_obligations(session, now, **scope):
        await session.commit()
    rows, count = await fetch(session, _filtered(query, filters), page)
    return [mappers.obligation(o) for o in rows], count


async def find(
    session: AsyncSession,
    obligation_id: str,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> FmObligation:
    """The obligation if it belongs to the given tenant(s); 404 otherwise."""
    query = select(FmObligation).where(FmObligation.id == obligation_id)
    query = scoped(query, FmObligation, provider_tenant_id, so_tenant_id)
    return await one_or_404(session, query, "Obligation")


async def get_obligation(
    session: AsyncSession,
    obligation_id: str,
    now: datetime,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> ObligationOut:
    scope = {"provider_tenant_id": provider_tenant_id, "so_tenant_id": so_tenant_id}
    ob = await find(session, obligation_id, **scope)
    if await lifecycle.settle_obligations(session, now, ids=[ob.id], **scope):
        await session.commit()
    return mappers.obligation(ob)


async def obligated_assets(
    session: AsyncSession, provider_tenant_id: str, obligation_id: str, page: Page
) -> tuple[list[AssetOut], int]:
    """The provider's assets listed as flex assets of one of its obligations."""
    ob = await find(session, obligation_id, provider_tenant_id=provider_tenant_id)
    ids = list(ob.assets.get("flex", []))
    query = (
        select(FmAsset)
        .where(FmAsset.provider_tenant_id == provider_tenant_id, FmAsset.id.in_(ids))
        .order_by(FmAsset.created, FmAsset.id)
    )
    rows, count = await fetch(session, query, page)
    return [mappers.asset(a) for a in rows], count

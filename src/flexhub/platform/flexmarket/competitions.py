"""Competitions: opened by a system operator with their service periods and windows; read by
their SO, and by a provider only when it holds an obligation under them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import not_found
from flexhub.platform.flexmarket import wire
from flexhub.platform.flexmarket.fields import NEED_DIRECTIONS, Errors
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.schemas.competitions import CompetitionIn
from flexhub.store.flexmarket import (
    FmCompetition,
    FmObligation,
    FmServicePeriod,
    FmServiceWindow,
)

BANK_HOLIDAYS = ("included", "excluded")
DEFAULT_RESPOND_WITHIN = 3600


def check_direction(errors: Errors, power_type: str | None, need: str, field: str) -> None:
    allowed = NEED_DIRECTIONS.get(power_type or "", ())
    if power_type in NEED_DIRECTIONS and need not in allowed:
        errors.add(field, f"must be one of: {', '.join(allowed)} (power_type {power_type})")


def _check_area(errors: Errors, area: dict[str, Any] | None) -> None:
    if area is None:
        return
    if area.get("type") not in ("Polygon", "MultiPolygon") or not isinstance(
        area.get("coordinates"), list
    ):
        errors.add("area", 'must be a GeoJSON Polygon or MultiPolygon ({"type", "coordinates"})')


def _timezone(errors: Errors, name: str | None) -> str:
    if name is None:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", "is not a known IANA timezone, e.g. Europe/London")
    return name


async def create(
    session: AsyncSession, so_tenant_id: str, body: CompetitionIn, now: datetime
) -> dict[str, Any]:
    """Validate everything, then store the competition, its periods and windows; commits."""
    e = Errors()
    e.text(body.ref, "ref")
    e.text(body.name, "name", max_length=400)
    power_type = e.choice(body.power_type, "power_type", tuple(NEED_DIRECTIONS))
    all_needs = tuple(n for pair in NEED_DIRECTIONS.values() for n in pair)
    if e.choice(body.need_direction, "need_direction", all_needs):
        check_direction(e, power_type, body.need_direction, "need_direction")
    if not (len(body.currency) == 3 and body.currency.isalpha() and body.currency.isupper()):
        e.add("currency", "must be an ISO 4217 code such as GBP")
    _check_area(e, body.area)
    zone = _timezone(e, body.timezone)
    holidays: list[date] = []
    for i, raw in enumerate(body.bank_holiday_dates or []):
        parsed = e.date(raw, f"bank_holiday_dates[{i}]")
        if parsed is not None:
            holidays.append(parsed)
    opens = e.utc_datetime(body.bidding_open, "bidding_open")
    closes = e.utc_datetime(body.bidding_close, "bidding_close")
    if opens and closes and closes <= opens:
        e.add("bidding_close", "must be later than bidding_open")
    respond = DEFAULT_RESPOND_WITHIN
    if body.respond_within is not None:
        respond = e.duration(body.respond_within, "respond_within") or respond
    if not body.service_periods:
        e.add("service_periods", "at least one service period is required")
    comp_id = str(uuid.uuid4())
    rows: list[Any] = []
    for i, p in enumerate(body.service_periods):
        at = f"service_periods[{i}]"
        e.text(p.name, f"{at}.name", max_length=400)
        start, end = e.date(p.start, f"{at}.start"), e.date(p.end, f"{at}.end")
        if start and end and end <= start:
            e.add(f"{at}.end", "must be later than start (the end date is exclusive)")
        if not p.service_windows:
            e.add(f"{at}.service_windows", "at least one service window is required")
        period = FmServicePeriod(
            id=str(uuid.uuid4()),
            competition_id=comp_id,
            so_tenant_id=so_tenant_id,
            position=i,
            name=p.name,
            start=start,
            end=end,
        )
        rows.append(period)
        for j, w in enumerate(p.service_windows):
            wat = f"{at}.service_windows[{j}]"
            e.text(w.name, f"{wat}.name", max_length=400)
            rows.append(
                FmServiceWindow(
                    id=str(uuid.uuid4()),
                    period_id=period.id,
                    competition_id=comp_id,
                    so_tenant_id=so_tenant_id,
                    position=j,
                    name=w.name,
                    start_time=e.time_of_day(w.start_time, f"{wat}.start_time"),
                    end_time=e.time_of_day(w.end_time, f"{wat}.end_time"),
                    service_days=e.service_days(w.service_days, f"{wat}.service_days"),
                    bank_holidays=e.choice(w.bank_holidays, f"{wat}.bank_holidays", BANK_HOLIDAYS),
                )
            )
    taken = await session.scalar(
        select(FmCompetition.id).where(
            FmCompetition.so_tenant_id == so_tenant_id, FmCompetition.ref == body.ref
        )
    )
    if taken is not None:
        e.add("ref", "a competition with this ref already exists")
    e.raise_if_any()
    comp = FmCompetition(
        id=comp_id,
        so_tenant_id=so_tenant_id,
        ref=body.ref,
        name=body.name,
        awarded=False,
        need_direction=body.need_direction,
        power_type=body.power_type,
        currency=body.currency,
        area=body.area,
        postcodes=list(body.postcodes or []),
        timezone=zone,
        bank_holiday_dates=sorted({d.isoformat() for d in holidays}),
        bidding_open=opens,
        bidding_close=closes,
        respond_within_seconds=respond,
        created=now,
        modified=now,
    )
    session.add(comp)
    await session.flush()
    session.add_all(rows)
    await session.flush()
    view = await competition_view(session, comp, now)
    await session.commit()
    return view


async def views(
    session: AsyncSession, comps: list[FmCompetition], now: datetime
) -> list[dict[str, Any]]:
    """The wire views of ``comps``, their periods and windows read in two queries."""
    ids = [c.id for c in comps]
    periods = (
        await session.scalars(
            select(FmServicePeriod).where(FmServicePeriod.competition_id.in_(ids))
        )
    ).all()
    windows = (
        await session.scalars(
            select(FmServiceWindow).where(FmServiceWindow.competition_id.in_(ids))
        )
    ).all()
    return [
        wire.competition(
            c,
            [p for p in periods if p.competition_id == c.id],
            [w for w in windows if w.competition_id == c.id],
            now,
        )
        for c in comps
    ]


async def competition_view(
    session: AsyncSession, comp: FmCompetition, now: datetime
) -> dict[str, Any]:
    return (await views(session, [comp], now))[0]


async def own(session: AsyncSession, so_tenant_id: str, competition_id: str) -> FmCompetition:
    comp = await session.scalar(
        select(FmCompetition).where(
            FmCompetition.id == competition_id, FmCompetition.so_tenant_id == so_tenant_id
        )
    )
    if comp is None:
        raise not_found("Competition")
    return comp


async def for_so(
    session: AsyncSession, so_tenant_id: str, competition_id: str, now: datetime
) -> dict[str, Any]:
    return await competition_view(session, await own(session, so_tenant_id, competition_id), now)


async def list_for_so(
    session: AsyncSession, so_tenant_id: str, page: Page, now: datetime
) -> tuple[list[dict[str, Any]], int]:
    query = (
        select(FmCompetition)
        .where(FmCompetition.so_tenant_id == so_tenant_id)
        .order_by(FmCompetition.created, FmCompetition.id)
    )
    rows, count = await fetch(session, query, page)
    return await views(session, rows, now), count


async def for_provider(
    session: AsyncSession, provider_tenant_id: str, competition_id: str, now: datetime
) -> dict[str, Any]:
    """Only a competition under which the provider holds an obligation; else 404."""
    holds = exists().where(
        FmObligation.competition_id == FmCompetition.id,
        FmObligation.provider_tenant_id == provider_tenant_id,
    )
    comp = await session.scalar(
        select(FmCompetition).where(FmCompetition.id == competition_id, holds)
    )
    if comp is None:
        raise not_found("Competition")
    return await competition_view(session, comp, now)

"""Competitions: opened by a system operator with their service periods and windows; read by
their SO, and by a provider only when it holds an obligation under them."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.services.queries import one_or_404, scoped
from flexhub.platform.transactions import committing
from flexhub.store.flexmarket import (
    FmCompetition,
    FmObligation,
    FmServicePeriod,
    FmServiceWindow,
)
from flexhub.wire.flexmarket.common import NEED_DIRECTIONS
from flexhub.wire.flexmarket.competitions import BANK_HOLIDAYS, CompetitionIn, CompetitionOut

DEFAULT_RESPOND_WITHIN = 3600
POSTCODE_LENGTH = 16
REF_TAKEN = "a competition with this ref already exists"
_ZONES = frozenset(available_timezones()) - {"localtime", "Factory"}


def check_direction(errors: Errors, power_type: str | None, need: str, field: str) -> None:
    allowed = NEED_DIRECTIONS.get(power_type or "", ())
    if power_type in NEED_DIRECTIONS and need not in allowed:
        errors.add(field, f"must be one of: {', '.join(allowed)} (power_type {power_type})")


MAX_AREA_POSITIONS = 10_000


def _is_position(p: Any) -> bool:
    """``[longitude, latitude]`` or with an altitude: finite numbers (JSON read by Python may
    carry NaN and Infinity, which no database or response can hold), on the globe."""
    if not isinstance(p, list) or len(p) not in (2, 3):
        return False
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in p):
        return False
    if not all(isinstance(n, int) or math.isfinite(n) for n in p):
        return False
    return -180 <= p[0] <= 180 and -90 <= p[1] <= 90


def _is_ring(ring: Any) -> bool:
    """A closed GeoJSON linear ring: at least four positions, the last the first again."""
    if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
        return False
    return all(_is_position(p) for p in ring)


def _is_polygon(rings: Any) -> bool:
    return isinstance(rings, list) and bool(rings) and all(_is_ring(r) for r in rings)


def _positions(kind: str, coordinates: list) -> int:
    polygons = [coordinates] if kind == "Polygon" else coordinates
    return sum(len(ring) for rings in polygons for ring in rings)


def _check_area(errors: Errors, area: dict[str, Any] | None) -> None:
    if area is None:
        return
    kind, coordinates = area.get("type"), area.get("coordinates")
    if (
        kind in ("Polygon", "MultiPolygon")
        and isinstance(coordinates, list)
        and all(isinstance(c, list) for c in coordinates)
        and (kind == "Polygon" or all(isinstance(r, list) for c in coordinates for r in c))
        and _positions(kind, coordinates) > MAX_AREA_POSITIONS
    ):
        errors.add(
            "area",
            f"must have at most {MAX_AREA_POSITIONS} positions in all (simplify the outline)",
        )
    elif set(area) != {"type", "coordinates"} or kind not in ("Polygon", "MultiPolygon"):
        errors.add("area", 'must be a GeoJSON Polygon or MultiPolygon ({"type", "coordinates"})')
    elif not (
        _is_polygon(coordinates)
        if kind == "Polygon"
        else isinstance(coordinates, list)
        and bool(coordinates)
        and all(_is_polygon(p) for p in coordinates)
    ):
        errors.add(
            "area",
            f"coordinates must be those of a {kind}: closed rings of at least four positions "
            "[longitude, latitude] (finite numbers, -180 to 180 and -90 to 90)",
        )


def _timezone(errors: Errors, name: str | None) -> str:
    """An IANA zone name; the aliases a system may also hold (``posix/...``, ``right/...``
    with leap seconds, ``localtime``) are refused."""
    if name is None:
        return "UTC"
    if name not in _ZONES:
        errors.add("timezone", "is not a known IANA timezone, e.g. Europe/London")
    return name


@dataclass(frozen=True)
class CheckedWindow:
    name: str
    start_time: time
    end_time: time
    service_days: list[str]
    bank_holidays: str


@dataclass(frozen=True)
class CheckedPeriod:
    name: str
    start: date
    end: date
    windows: list[CheckedWindow]


@dataclass(frozen=True)
class CheckedCompetition:
    """A competition request with every value checked and parsed."""

    body: CompetitionIn
    timezone: str
    holidays: list[date]
    bidding_open: datetime
    bidding_close: datetime
    respond_within: int
    periods: list[CheckedPeriod]


def _check_periods(e: Errors, body: CompetitionIn) -> list[CheckedPeriod]:
    if not body.service_periods:
        e.add("service_periods", "at least one service period is required")
    periods = []
    for i, p in enumerate(body.service_periods):
        at = f"service_periods[{i}]"
        e.text(p.name, f"{at}.name", max_length=400)
        start, end = e.date(p.start, f"{at}.start"), e.date(p.end, f"{at}.end")
        if start and end and end <= start:
            e.add(f"{at}.end", "must be later than start (the end date is exclusive)")
        if not p.service_windows:
            e.add(f"{at}.service_windows", "at least one service window is required")
        windows = []
        for j, w in enumerate(p.service_windows):
            wat = f"{at}.service_windows[{j}]"
            e.text(w.name, f"{wat}.name", max_length=400)
            windows.append(
                CheckedWindow(
                    name=w.name,
                    start_time=e.time_of_day(w.start_time, f"{wat}.start_time"),
                    end_time=e.time_of_day(w.end_time, f"{wat}.end_time"),
                    service_days=e.service_days(w.service_days, f"{wat}.service_days"),
                    bank_holidays=e.choice(w.bank_holidays, f"{wat}.bank_holidays", BANK_HOLIDAYS),
                )
            )
        periods.append(CheckedPeriod(p.name, start, end, windows))
    return periods


async def check(
    session: AsyncSession, so_tenant_id: str, body: CompetitionIn
) -> CheckedCompetition:
    """Every field of the request checked (one 400 naming each bad field), the ref free."""
    e = Errors()
    e.text(body.ref, "ref")
    e.text(body.name, "name", max_length=400)
    power_type = e.choice(body.power_type, "power_type", tuple(NEED_DIRECTIONS))
    all_needs = tuple(n for pair in NEED_DIRECTIONS.values() for n in pair)
    if e.choice(body.need_direction, "need_direction", all_needs):
        check_direction(e, power_type, body.need_direction, "need_direction")
    e.code(body.currency, "currency", 3, "GBP")
    _check_area(e, body.area)
    for i, postcode in enumerate(body.postcodes or []):
        e.text(postcode, f"postcodes[{i}]", max_length=POSTCODE_LENGTH)
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
    periods = _check_periods(e, body)
    taken = await session.scalar(
        select(FmCompetition.id).where(
            FmCompetition.so_tenant_id == so_tenant_id, FmCompetition.ref == body.ref
        )
    )
    if taken is not None:
        e.add("ref", REF_TAKEN)
    e.raise_if_any()
    assert opens is not None and closes is not None
    return CheckedCompetition(body, zone, holidays, opens, closes, respond, periods)


def _rows(comp_id: str, so_tenant_id: str, periods: list[CheckedPeriod]) -> list[Any]:
    """The period and window rows of a new competition, in order."""
    rows: list[Any] = []
    for i, p in enumerate(periods):
        period = FmServicePeriod(
            id=str(uuid.uuid4()),
            competition_id=comp_id,
            so_tenant_id=so_tenant_id,
            position=i,
            name=p.name,
            start=p.start,
            end=p.end,
        )
        rows.append(period)
        for j, w in enumerate(p.windows):
            rows.append(
                FmServiceWindow(
                    id=str(uuid.uuid4()),
                    period_id=period.id,
                    competition_id=comp_id,
                    so_tenant_id=so_tenant_id,
                    position=j,
                    name=w.name,
                    start_time=w.start_time,
                    end_time=w.end_time,
                    service_days=w.service_days,
                    bank_holidays=w.bank_holidays,
                )
            )
    return rows


async def create(
    session: AsyncSession, so_tenant_id: str, body: CompetitionIn, now: datetime
) -> CompetitionOut:
    """Check everything, then store the competition, its periods and windows; commits."""
    checked = await check(session, so_tenant_id, body)
    comp = FmCompetition(
        id=str(uuid.uuid4()),
        so_tenant_id=so_tenant_id,
        ref=body.ref,
        name=body.name,
        awarded=False,
        need_direction=body.need_direction,
        power_type=body.power_type,
        currency=body.currency,
        area=body.area,
        postcodes=list(body.postcodes or []),
        timezone=checked.timezone,
        bank_holiday_dates=sorted({d.isoformat() for d in checked.holidays}),
        bidding_open=checked.bidding_open,
        bidding_close=checked.bidding_close,
        respond_within_seconds=checked.respond_within,
        created=now,
        modified=now,
    )
    async with committing(session, 400, REF_TAKEN, "ref"):
        session.add(comp)
        await session.flush()
        session.add_all(_rows(comp.id, so_tenant_id, checked.periods))
        await session.flush()
        view = await competition_view(session, comp, now)
    return view


async def views(
    session: AsyncSession, comps: list[FmCompetition], now: datetime
) -> list[CompetitionOut]:
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
        mappers.competition(
            c,
            [p for p in periods if p.competition_id == c.id],
            [w for w in windows if w.competition_id == c.id],
            now,
        )
        for c in comps
    ]


async def competition_view(
    session: AsyncSession, comp: FmCompetition, now: datetime
) -> CompetitionOut:
    return (await views(session, [comp], now))[0]


async def own(session: AsyncSession, so_tenant_id: str, competition_id: str) -> FmCompetition:
    query = select(FmCompetition).where(FmCompetition.id == competition_id)
    return await one_or_404(
        session, scoped(query, FmCompetition, so_tenant_id=so_tenant_id), "Competition"
    )


async def for_so(
    session: AsyncSession, so_tenant_id: str, competition_id: str, now: datetime
) -> CompetitionOut:
    return await competition_view(session, await own(session, so_tenant_id, competition_id), now)


async def list_for_so(
    session: AsyncSession, so_tenant_id: str, page: Page, now: datetime
) -> tuple[list[CompetitionOut], int]:
    query = (
        select(FmCompetition)
        .where(FmCompetition.so_tenant_id == so_tenant_id)
        .order_by(FmCompetition.created, FmCompetition.id)
    )
    rows, count = await fetch(session, query, page)
    return await views(session, rows, now), count


async def for_provider(
    session: AsyncSession, provider_tenant_id: str, competition_id: str, now: datetime
) -> CompetitionOut:
    """Only a competition under which the provider holds an obligation; else 404."""
    holds = exists().where(
        FmObligation.competition_id == FmCompetition.id,
        FmObligation.provider_tenant_id == provider_tenant_id,
    )
    query = select(FmCompetition).where(FmCompetition.id == competition_id, holds)
    return await competition_view(session, await one_or_404(session, query, "Competition"), now)

"""Publishing the day-ahead price curves: for one local day, each neighbourhood's plan
(``engines.day_ahead``) becomes one PriceCurve event per partner with targets there, in one
transaction with the run rows (``price_curve_runs``) and the events' outbox rows.

The run row's key (day, neighbourhood) is what makes this happen once: a second run for the
same day skips the neighbourhoods already run, and when two processes run at once the second
one's insert of a run row waits for the first transaction and then inserts nothing
(``ON CONFLICT DO NOTHING``, PostgreSQL and SQLite alike), so it sends nothing for it.
Neighbourhoods without a need get a run row too (no events).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination.events import create_events
from flexhub.platform.coordination.services import lpc
from flexhub.platform.engines import day_ahead, neighbourhood_rows, price_curves
from flexhub.platform.engines import lpc as lpc_engine
from flexhub.platform.engines.forecast import NeedForecaster
from flexhub.store.coordination import Neighbourhood
from flexhub.store.database import Database
from flexhub.store.grid import PriceCurveRun

log = logging.getLogger("flexhub.price_curves")
TRIGGERS = ("schedule", "operator", "cli")
CLAIM_CHUNK = 500


@dataclass(frozen=True)
class RunOutcome:
    day: date
    runs: list[PriceCurveRun]  # written by this call
    skipped: list[str]  # neighbourhoods already run for the day (earlier, or by another process)

    @property
    def events(self) -> int:
        return sum(r.events for r in self.runs)

    @property
    def targets(self) -> int:
        return sum(r.targets for r in self.runs)


async def run_day(
    db: Database,
    forecaster: NeedForecaster,
    day: date,
    *,
    trigger: str,
    price_area: str | None = None,
    only: Sequence[str] | None = None,
    now: datetime | None = None,
) -> RunOutcome:
    """Send the price curves of ``day`` (a local day) for every neighbourhood (of
    ``price_area``, and among ``only``, when given) not yet run for it, in one transaction."""
    now = now or utcnow()
    async with db.session() as session:
        rows = await _neighbourhoods(session, price_area)
        done = set(
            (
                await session.scalars(
                    select(PriceCurveRun.neighbourhood_id).where(
                        PriceCurveRun.day == day.isoformat()
                    )
                )
            ).all()
        )
        if only is not None:
            wanted = set(only)
            done &= wanted
        todo = [r for r in rows if r.id not in done and (only is None or r.id in wanted)]
        if not todo:
            return RunOutcome(day, [], sorted(done))
        placement = await day_ahead.place(session, await neighbourhood_rows.placement(session))
        imported = await day_ahead.imported_needs(session, todo, day)
        # the forecast of every neighbourhood: off the event loop, like the placement
        plans = await asyncio.to_thread(day_ahead.plan, todo, placement, day, forecaster, imported)
        runs = {p.area.id: _run_row(p, trigger, now) for p in plans}
        claimed = await _claim(session, list(runs.values()))
        for item in plans:
            if item.area.id in claimed:
                await _publish(session, item, now)
        await session.commit()
    done |= set(runs) - claimed  # another process ran them meanwhile
    ran = [runs[nid] for nid in sorted(claimed)]
    if ran:
        log.info(
            "price curves for %s: %d neighbourhoods, %d events, %d targets",
            day,
            len(ran),
            sum(r.events for r in ran),
            sum(r.targets for r in ran),
        )
    return RunOutcome(day, ran, sorted(done))


async def _neighbourhoods(session: AsyncSession, price_area: str | None) -> list[Neighbourhood]:
    query = select(Neighbourhood).order_by(Neighbourhood.id)
    if price_area is not None:
        query = query.where(Neighbourhood.price_area == price_area)
    return list((await session.scalars(query)).all())


def _run_row(item: day_ahead.CurvePlan, trigger: str, now: datetime) -> PriceCurveRun:
    has_need = item.need_hours > 0
    return PriceCurveRun(
        day=item.day.isoformat(),
        neighbourhood_id=item.area.id,
        price_area=item.area.price_area,
        trigger=trigger,
        need_hours=item.need_hours,
        events=len(item.targets) if has_need else 0,
        targets=sum(len(t) for t in item.targets.values()) if has_need else 0,
        created_at=now,
    )


async def _claim(session: AsyncSession, runs: list[PriceCurveRun]) -> set[str]:
    """Insert the run rows that do not exist yet (in key order, so that two processes cannot
    deadlock); a row another transaction is inserting waits for it and is then skipped.
    Returns the neighbourhoods claimed."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    values = [
        {c.name: getattr(r, c.key) for c in PriceCurveRun.__table__.columns}
        for r in sorted(runs, key=lambda r: r.neighbourhood_id)
    ]
    claimed: set[str] = set()
    for k in range(0, len(values), CLAIM_CHUNK):
        statement = (
            insert(PriceCurveRun)
            .values(values[k : k + CLAIM_CHUNK])
            .on_conflict_do_nothing()
            .returning(PriceCurveRun.neighbourhood_id)
        )
        claimed.update((await session.scalars(statement)).all())
    return claimed


async def _publish(session: AsyncSession, item: day_ahead.CurvePlan, now: datetime) -> None:
    """One neighbourhood's events: a PriceCurve per partner with targets when it has a need,
    and a power limit when shifting is not enough."""
    if item.need_hours > 0:
        checked = item.delta()  # checked once, shared by the events
        delta, delta_wire = checked.model_dump(mode="json"), checked.model_dump_json().encode()
        payloads = [
            (tenant_id, price_curves.payload_json(item.area.price_area, targets, delta))
            for tenant_id, targets in item.targets.items()
        ]
        wires = [price_curves.payload_wire(p, delta_wire) for _, p in payloads]
        await create_events(session, payloads, created_at=now, checked=True, wires=wires)
    if item.limit_hours and any(item.sites.values()):
        await _raise_limit(session, item, now)


async def _raise_limit(session: AsyncSession, item: day_ahead.CurvePlan, now: datetime) -> None:
    """Shifting is not enough in some hours: a LocationLPC on each enrolled location with a
    meter point, an equal share of the transformer each, acknowledged within the day."""
    specs = {t: [(None, loc, ms[0]) for loc, ms in sites] for t, sites in item.sites.items()}
    share = lpc_engine.fair_share_kw(item.area.capacity_kw, sum(len(s) for s in specs.values()))
    await lpc.publish(
        session,
        "LocationLPC",
        {t: s for t, s in specs.items() if s},
        lpc.hourly_points(item.limit_hours, share),
        deadline=min(item.limit_hours),
        source="forecast",
        neighbourhood_id=item.area.id,
        now=now,
    )


async def list_runs(
    session: AsyncSession, day: date | None = None, limit: int = 500
) -> list[PriceCurveRun]:
    query = select(PriceCurveRun).order_by(PriceCurveRun.day.desc(), PriceCurveRun.neighbourhood_id)
    if day is not None:
        query = query.where(PriceCurveRun.day == day.isoformat())
    return list((await session.scalars(query.limit(limit))).all())

"""The daily price-curve run: at a configured local time per price area (default 12:00, after
the day-ahead market clears), the curves for the area's next local day are sent. Runs in
``platform serve`` and ``flexhub worker``; every process checks once a minute and the run rows
make sure each (day, neighbourhood) is sent once, whichever process gets there first.

``FLEXHUB_PRICE_CURVE_SCHEDULE``: ``"12:00"`` (every area), ``"12:00 FI=13:00 NO4=11:30"``
(a default and per-area times, separated by spaces or commas), or ``""``/``off`` (no run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from flexhub.clock import utcnow
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.services.lpc import mark_overdue
from flexhub.platform.coordination.services.price_curve_runs import run_day
from flexhub.store.coordination import Neighbourhood
from flexhub.timeseries import PRICE_AREA_ZONES, zone_for

log = logging.getLogger("flexhub.price_curves")


def parse_schedule(text: str) -> dict[str, time]:
    """Local run time per price area (every known area when a default is given); ValueError
    when unreadable."""
    text = (text or "").strip()
    if text.lower() in ("", "off", "none", "false"):
        return {}
    default: time | None = None
    per_area: dict[str, time] = {}
    for part in text.replace(",", " ").split():
        area, _, clock = part.rpartition("=")
        try:
            at = time.fromisoformat(clock)
        except ValueError:
            raise ValueError(f"price curve schedule: {clock!r} is not a time like 12:00") from None
        if not area:
            default = at
        elif area in PRICE_AREA_ZONES:
            per_area[area] = at
        else:
            raise ValueError(f"price curve schedule: {area!r} is not a price area")
    out = {a: default for a in PRICE_AREA_ZONES} if default is not None else {}
    out.update(per_area)
    return out


def due(schedule: dict[str, time], areas: set[str], now: datetime) -> list[tuple[str, date]]:
    """The (price area, local day) runs due at ``now``: once the area's local time is past its
    run time, the next local day."""
    out = []
    for area in sorted(areas):
        at = schedule.get(area)
        if at is None:
            continue
        local = now.astimezone(zone_for(area))
        if local.time() >= at:
            out.append((area, local.date() + timedelta(days=1)))
    return out


async def run_due(ctx: PlatformContext, now: datetime | None = None) -> int:
    """Run what is due; returns the events sent."""
    now = now or utcnow()
    schedule = parse_schedule(ctx.settings.price_curve_schedule)
    if not schedule:
        return 0
    async with ctx.db.session() as session:
        areas = set((await session.scalars(select(Neighbourhood.price_area).distinct())).all())
    sent = 0
    for area, day in due(schedule, areas, now):
        outcome = await run_day(
            ctx.db, ctx.forecaster, day, trigger="schedule", price_area=area, now=now
        )
        sent += outcome.events
    return sent


async def run_schedule(ctx: PlatformContext, stop: asyncio.Event, interval: float = 60.0) -> None:
    """Check every ``interval`` seconds until ``stop`` is set; errors are logged, not fatal."""
    try:
        parse_schedule(ctx.settings.price_curve_schedule)
    except ValueError as exc:
        log.error("FLEXHUB_PRICE_CURVE_SCHEDULE: %s; no daily price curves", exc)
        return
    while not stop.is_set():
        try:
            await run_due(ctx)
            async with ctx.db.session() as session:
                await mark_overdue(session)
        except Exception:
            log.exception("scheduled price-curve run failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)

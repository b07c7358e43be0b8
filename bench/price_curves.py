"""Day-ahead price-curve benchmark (PostgreSQL): the time and peak memory to generate the next
day's price curves for 100,000 resources across 50 partners, 50 neighbourhoods (every partner
has enrolled users in each; each neighbourhood's transformer is strained in the evening, so
every partner gets one PriceCurve event per neighbourhood, and each event one outbox row),
beside a bare reference measured in the same run: a bulk insert of as many plain rows as there
are resources.

Run: ``.venv/bin/python bench/price_curves.py [--quick]``. Needs the PostgreSQL server
(FLEXHUB_TEST_POSTGRES_URL, default the local one); it creates and drops its own database.
Figures depend on the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from figures import Figure
from flexhub.platform.coordination.services.price_curve_runs import run_day
from flexhub.platform.engines.load_model import BuiltinForecaster
from flexhub.platform.engines.neighbourhoods import square
from flexhub.store.coordination import EcEvent
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow
from home_rows import HomeRows

PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
DAY = date(2027, 1, 12)
TARGET = "< 5 s and < 500 MB"


async def seed(dsn: str, partners: int, neighbourhoods: int, resources: int) -> None:
    """Partners with a webhook each, users enrolled and eligible, one location each in a
    neighbourhood with a meter, a hot water tank and a charger there (2 resources a user)."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    try:
        areas = []
        for i in range(neighbourhoods):
            lat, lon = 59.0 + (i // 10) * 0.1, 10.0 + (i % 10) * 0.1
            ring = square(lat, lon, 0.04)
            areas.append((f"nh-{i:03d}", lat, lon))
            await conn.execute(
                "INSERT INTO neighbourhoods (id, name, price_area, currency, polygon, "
                "meter_point_ids, created_at, geometry, time_zone, capacity_kw, params) "
                "VALUES ($1, $2, 'NO1', 'NOK', $3::jsonb, '[]'::jsonb, $4, $5::jsonb, "
                "'Europe/Oslo', $6, '{\"lpc_margin\": 1000}'::jsonb)",
                f"nh-{i:03d}",
                f"bench {i}",
                str(ring).replace("'", '"'),
                now,
                str({"type": "Polygon", "coordinates": [ring]}).replace("'", '"'),
                100.0,
            )
        users_each = resources // 2 // partners
        tenants = [f"bench-partner-{p:02d}" for p in range(partners)]
        await conn.copy_records_to_table(
            "partners",
            records=[(t, t, "provider", t, "x", False, 0, now) for t in tenants],
            columns=[
                "id",
                "name",
                "role",
                "client_id",
                "secret_hash",
                "disabled",
                "token_version",
                "created_at",
            ],  # fmt: skip
        )
        await conn.copy_records_to_table(
            "ec_webhooks",
            records=[
                (
                    f"wh-{t}",
                    t,
                    "http://127.0.0.1:9/hook",
                    None,
                    '["PriceCurveCreated"]',
                    True,
                    "Healthy",
                    now,
                    now,
                    now,
                )  # fmt: skip
                for t in tenants
            ],
            columns=[
                "id",
                "tenant_id",
                "url",
                "secret",
                "notification_types",
                "enabled",
                "status",
                "created_at",
                "modified_at",
                "last_analyzed_at",
            ],  # fmt: skip
        )
        rows = HomeRows()
        for t in tenants:
            rows.add(
                t,
                users_each,
                centre=lambda u: areas[u % neighbourhoods][1:],
                meter=lambda u, t=t: f"mp-{t}-{u}",
                rng=rng,
                now=now,
                resources_metered=False,
            )
        await rows.copy(conn)
    finally:
        await conn.close()


async def bare_insert(db: Database, rows: int) -> tuple[float, float]:
    """Wall and CPU seconds to insert ``rows`` plain rows in one transaction (SQLAlchemy core
    executemany, as the run's inserts go)."""
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_plain (id text PRIMARY KEY, n integer)"))
    values = [{"id": f"row-{i}", "n": i} for i in range(rows)]
    wall, cpu = time.perf_counter(), time.process_time()
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO bench_plain (id, n) VALUES (:id, :n)"), values)
    return time.perf_counter() - wall, time.process_time() - cpu


async def longest_stall(work) -> tuple[object, float]:
    """``await work`` while a ticker wakes every 5 ms: the result and the longest time the event
    loop did not run the ticker (what a request to the serving process would have waited)."""
    worst, done = 0.0, asyncio.Event()

    async def tick() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            worst, last = max(worst, now - last - 0.005), now

    ticker = asyncio.create_task(tick())
    try:
        result = await work
    finally:
        done.set()
        await ticker
    return result, worst


async def measure(quick: bool) -> dict:
    partners, neighbourhoods, resources = (10, 10, 10_000) if quick else (50, 50, 100_000)
    admin = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"flexhub_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        await db.upgrade()
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        await seed(dsn, partners, neighbourhoods, resources)
        ref_wall, ref_cpu = await bare_insert(db, resources)
        forecaster = BuiltinForecaster()
        forecaster.need(  # load pvlib and pandas before timing (a serving process has them)
            __import__("flexhub.platform.engines.forecast", fromlist=["GridArea"]).GridArea(
                "warm", "NO1", "NOK", "Europe/Oslo", 1.0, 59.9, 10.7, {"solar_kwp": 1}
            ),
            [datetime(2027, 1, 1, tzinfo=UTC)],
        )
        _, idle_stall = await longest_stall(asyncio.sleep(1.0))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        wall, cpu = time.perf_counter(), time.process_time()
        outcome, stall = await longest_stall(run_day(db, forecaster, DAY, trigger="cli"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        async with db.session() as s:
            events = await s.scalar(select(func.count()).select_from(EcEvent))
            outbox = await s.scalar(select(func.count()).select_from(OutboxRow))
        tracemalloc.start()
        again = await run_day(db, forecaster, DAY.replace(day=13), trigger="cli")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {
            "partners": partners,
            "neighbourhoods": neighbourhoods,
            "resources": resources,
            "wall": wall,
            "cpu": cpu,
            "ref_wall": ref_wall,
            "ref_cpu": ref_cpu,
            "stall_ms": stall * 1000,
            "idle_stall_ms": idle_stall * 1000,
            "events": events,
            "outbox": outbox,
            "targets": outcome.targets,
            "second_events": again.events,
            "py_peak_mb": peak / 2**20,
            "rss_growth_mb": rss_after - rss_before,
            "rss_mb": rss_after,
        }
    finally:
        await db.dispose()
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def figures(quick: bool) -> list[Figure]:
    m = asyncio.run(measure(quick))
    size = f"{m['resources']:,} resources, {m['partners']} partners"
    return [
        Figure(
            f"next-day price curves, {size} ({m['events']:,} events + outbox rows)",
            m["wall"],
            "s",
            f"bulk insert of {m['resources']:,} plain rows",
            m["ref_wall"],
            target=TARGET,
        ),
        Figure(
            f"next-day price curves, {size}: CPU time of the run",
            m["cpu"],
            "s",
            f"CPU time of the bulk insert of {m['resources']:,} plain rows",
            m["ref_cpu"],
            target=TARGET,
        ),
        Figure(
            f"next-day price curves, {size}: the event loop's longest stall during the run",
            m["stall_ms"],
            "ms",
            "the longest stall of the idle loop (1 s)",
            m["idle_stall_ms"],
            target="the serving process keeps answering during a run",
        ),
        Figure(
            f"next-day price curves, {size}: peak Python memory (tracemalloc)",
            m["py_peak_mb"],
            "MB",
            "process peak RSS after the run",
            m["rss_mb"],
            target=TARGET,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 resources, 10 partners")
    args = parser.parse_args()
    m = asyncio.run(measure(args.quick))
    print(
        f"bare bulk insert of {m['resources']:,} plain rows: {m['ref_wall']:.2f} s "
        f"(CPU {m['ref_cpu']:.2f} s)"
    )
    print(
        f"next-day price curves, {m['resources']:,} resources, {m['partners']} partners, "
        f"{m['neighbourhoods']} neighbourhoods: {m['wall']:.2f} s (CPU {m['cpu']:.2f} s), "
        f"{m['events']:,} events, {m['outbox']:,} outbox rows, {m['targets']:,} targets "
        f"[{m['wall'] / m['ref_wall']:.1f}x the bare insert]"
    )
    print(
        f"the event loop's longest stall during the run: {m['stall_ms']:.0f} ms "
        f"(idle loop: {m['idle_stall_ms']:.1f} ms)"
    )
    print(
        f"memory: peak Python allocations {m['py_peak_mb']:.0f} MB (tracemalloc, second day: "
        f"{m['second_events']:,} events), process RSS grew {m['rss_growth_mb']:.0f} MB to "
        f"{m['rss_mb']:.0f} MB; target {TARGET}"
    )


if __name__ == "__main__":
    main()

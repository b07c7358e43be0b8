"""Batch endpoints benchmark (PostgreSQL, over HTTP on loopback): ``POST /users/batch`` with
1,000 and with 10,000 users in one call, and ``POST /users/locations/batch`` with 10,000
locations (a meter point and coordinates each) for those users, against ``platform serve``'s
app in a thread of this process; beside a bare reference measured in the same run: a bare bulk
insert of as many plain rows (SQLAlchemy core, one transaction, as the endpoint's inserts go).

Each figure is the median of a few calls with fresh ids. Run: ``.venv/bin/python bench/batch.py
[--quick]``. Needs the PostgreSQL server (FLEXHUB_TEST_POSTGRES_URL, default the local one); it
creates and drops its own database. Figures depend on the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parent.parent / "tests"))
from figures import Figure
from flexhub.store.database import Database
from support.databases import platform_settings
from support.platform import PlatformThread, new_partner

PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def bare_insert(db: Database, rows: int) -> float:
    """Seconds to insert ``rows`` plain rows in one transaction (core executemany)."""
    table = f"bench_plain_{uuid.uuid4().hex[:6]}"
    async with db.engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {table} (id text PRIMARY KEY, n integer)"))
    values = [{"id": f"row-{i}", "n": i} for i in range(rows)]
    t0 = time.perf_counter()
    async with db.engine.begin() as conn:
        await conn.execute(text(f"INSERT INTO {table} (id, n) VALUES (:id, :n)"), values)
    return time.perf_counter() - t0


async def _timed(client, path: str, body: dict) -> float:
    t0 = time.perf_counter()
    r = await client.post(path, json=body)
    took = time.perf_counter() - t0
    if r.status_code != 201:
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
    return took


async def measure(url: str, rounds: int) -> dict:
    db = Database(url)
    await db.upgrade()
    with tempfile.TemporaryDirectory(prefix="flexhub-bench-") as tmp:
        platform = PlatformThread(platform_settings(url, Path(tmp), run_worker=False)).start()
        try:
            partner = await new_partner(platform.base_url, db)
            client = partner.client
            client.timeout = 120
            out: dict[str, list[float]] = {"u1k": [], "u10k": [], "l10k": [], "b1k": [], "b10k": []}
            await _timed(client, "/users/batch", {"users": [{"userId": "warm"}]})
            for r in range(rounds):
                users = [{"userId": f"s{r}-{i}"} for i in range(1000)]
                out["u1k"].append(await _timed(client, "/users/batch", {"users": users}))
                users = [{"userId": f"u{r}-{i}"} for i in range(10_000)]
                out["u10k"].append(await _timed(client, "/users/batch", {"users": users}))
                locations = [
                    {
                        "userId": f"u{r}-{i}",
                        "locationId": f"l{r}-{i}",
                        "coordinates": {"latitude": 59.9, "longitude": 10.7},
                        "meterPointIds": [f"m{r}-{i}"],
                    }
                    for i in range(10_000)
                ]
                body = {"locations": locations}
                out["l10k"].append(await _timed(client, "/users/locations/batch", body))
                out["b1k"].append(await bare_insert(db, 1000))
                out["b10k"].append(await bare_insert(db, 10_000))
            await client.aclose()
        finally:
            platform.stop()
            await db.dispose()
    return {k: statistics.median(v) for k, v in out.items()}


async def _with_database(rounds: int) -> dict:
    admin = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"flexhub_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG).set(database=name).render_as_string(hide_password=False)
        return await measure(url, rounds)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def figures(quick: bool) -> list[Figure]:
    m = asyncio.run(_with_database(1 if quick else 3))
    return [
        Figure("POST /users/batch, 1,000 users", m["u1k"] * 1000, "ms",
               "bare bulk insert of 1,000 rows", m["b1k"] * 1000),
        Figure("POST /users/batch, 10,000 users", m["u10k"] * 1000, "ms",
               "bare bulk insert of 10,000 rows", m["b10k"] * 1000, target="≤ 1 s"),
        Figure("POST /users/locations/batch, 10,000 locations", m["l10k"] * 1000, "ms",
               "bare bulk insert of 10,000 rows", m["b10k"] * 1000),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one call of each")
    args = parser.parse_args()
    print(f"batch benchmark (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for f in figures(args.quick):
        print(
            f"{f.name:<48} {f.value:9.1f} {f.unit} | {f.reference}: {f.reference_value:.1f} "
            f"{f.unit} ({f.ratio:.1f}x){'  target ' + f.target if f.target else ''}"
        )


if __name__ == "__main__":
    main()

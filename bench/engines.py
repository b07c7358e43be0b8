"""Platform engines benchmark (PostgreSQL): prints, each beside a bare reference measured in the
same run,

1. placing 100,000 locations in 500 neighbourhoods in memory (``Placement.place_points``),
   beside a plain numpy bounding-box pass over the same points;
2. loading 500 neighbourhoods over 100,000 stored locations end to end, as ``flexhub platform
   neighbourhoods load`` does: parsing the FeatureCollection, storing it, reading every
   location, placing it, writing who became eligible and queueing their UserEligibility
   changes, one transaction; beside a plain read of the same location rows. Wall time, the
   CPU time of the loading process and that of its PostgreSQL backend (read from /proc: the
   server runs on this machine), so that a figure from a busy machine still tells how much
   work the load is;
3. the peak memory of that process, beside the same process before the load (interpreter,
   imports, connection).

The load runs in a fresh child process, so that its peak memory is its own. Neighbourhoods are
32-sided polygons, every fifth with a hole and every tenth a two-part multipolygon, five of
them meter-point lists; 70 % of the locations lie in one, 10 % have a meter point; 50
partners.

Run: ``.venv/bin/python bench/engines.py [--quick]``. Needs the PostgreSQL server
(FLEXHUB_TEST_POSTGRES_URL, default the local one); it creates and drops its own database.
Figures depend on the machine; nothing here asserts on them. The price-curve figure of the
same issue belongs in :func:`figures` too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import numpy as np
from shapely.geometry import Point, mapping
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure
from flexhub.clock import utcnow
from flexhub.platform.engines.neighbourhoods import parse_collection
from flexhub.platform.engines.placement import AreaInput, Placement
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcUser
from flexhub.store.database import Database
from flexhub.store.partners import Partner

PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PARTNERS = 50
LON0, LAT0 = 5.0, 58.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    return time.process_time()


def _backend_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend (on this machine) has used so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def grid_shape(count: int) -> tuple[int, int]:
    cols = int(np.ceil(np.sqrt(count * 1.25)))
    return cols, int(np.ceil(count / cols))


def neighbourhoods(count: int) -> tuple[dict, list[tuple[float, float, float]], list[str]]:
    """A FeatureCollection of ``count`` neighbourhoods on a grid, their (lon, lat, radius)
    centres, and the meter points of the meter-only ones."""
    cols, _ = grid_shape(count)
    features, centres, meters = [], [], []
    for k in range(count):
        lon, lat = LON0 + (k % cols) * 0.2, LAT0 + (k // cols) * 0.1
        radius = 0.04
        ident = f"bench-nh-{k:04d}"
        properties = {"priceArea": "NO1", "capacityKw": 500.0 + k}
        if k % 100 == 7:  # meter points only
            listed = [f"mp-{k:04d}-{i:05d}" for i in range(400)]
            meters += listed
            features.append(
                {
                    "type": "Feature",
                    "id": ident,
                    "geometry": None,
                    "properties": {**properties, "meterPointIds": listed},
                }
            )
            continue
        circle = Point(lon, lat).buffer(radius, quad_segs=8)
        if k % 5 == 0:
            circle = circle.difference(Point(lon, lat).buffer(radius / 4, quad_segs=4))
        if k % 10 == 5:
            circle = circle.union(Point(lon + 0.07, lat).buffer(radius / 3, quad_segs=4))
        centres.append((lon, lat, radius))
        features.append(
            {"type": "Feature", "id": ident, "geometry": mapping(circle), "properties": properties}
        )
    data = json.loads(json.dumps({"type": "FeatureCollection", "features": features}))
    return data, centres, meters


def locations(
    count: int, centres: list[tuple[float, float, float]], meters: list[str], seed: int = 1
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    rng = np.random.default_rng(seed)
    near = rng.random(count) < 0.75
    which = rng.integers(0, len(centres), count)
    c = np.array(centres)
    angle, dist = rng.uniform(0, 2 * np.pi, count), np.sqrt(rng.random(count)) * 0.045
    lon = np.where(
        near, c[which, 0] + dist * np.cos(angle), rng.uniform(LON0, c[:, 0].max(), count)
    )
    lat = np.where(
        near, c[which, 1] + dist * np.sin(angle), rng.uniform(LAT0, c[:, 1].max(), count)
    )
    listed = [None] * count
    free = iter(meters)  # each listed meter point on one location at most
    for i in np.flatnonzero(rng.random(count) < 0.10).tolist():
        listed[i] = next(free, None) if i % 2 else f"mp-elsewhere-{i}"
    return lat, lon, listed


async def seed(url: str, size: int, areas: int, path: Path) -> None:
    """The database: partners, a user with one location each; the collection in ``path``."""
    data, centres, meters = neighbourhoods(areas)
    await asyncio.to_thread(path.write_text, json.dumps(data))
    lat, lon, listed = locations(size, centres, meters)
    db = Database(url)
    try:
        await db.upgrade()
        tenants = [str(uuid.uuid4()) for _ in range(PARTNERS)]
        async with db.session() as s:  # partners that never sign in: no secret to hash
            await s.execute(
                insert(Partner),
                [
                    {
                        "id": t,
                        "name": f"bench-{i}",
                        "role": "provider",
                        "client_id": t,
                        "secret_hash": "none",
                        "disabled": False,
                        "created_at": utcnow(),
                    }
                    for i, t in enumerate(tenants)
                ],
            )
            await s.commit()
        now = utcnow()
        chunk = 5000
        async with db.session() as s:
            for start in range(0, size, chunk):
                idx = range(start, min(size, start + chunk))
                await s.execute(
                    insert(EcUser),
                    [
                        {
                            "tenant_id": tenants[i % PARTNERS],
                            "user_id": f"u{i}",
                            "eligible": False,
                            "simulated": False,
                            "created_at": now,
                        }
                        for i in idx
                    ],
                )
                await s.execute(
                    insert(EcLocation),
                    [
                        {
                            "tenant_id": tenants[i % PARTNERS],
                            "location_id": f"l{i}",
                            "user_id": f"u{i}",
                            "location_type": "Residential",
                            "latitude": float(lat[i]),
                            "longitude": float(lon[i]),
                            "simulated": False,
                            "created_at": now,
                            "modified_at": now,
                        }
                        for i in idx
                    ],
                )
                rows = [
                    {
                        "tenant_id": tenants[i % PARTNERS],
                        "meter_point_id": listed[i],
                        "location_id": f"l{i}",
                        "position": 0,
                    }
                    for i in idx
                    if listed[i]
                ]
                if rows:
                    await s.execute(insert(EcLocationMeter), rows)
            await s.commit()
            await s.execute(text("ANALYZE"))
    finally:
        await db.dispose()


async def child(url: str, path: str) -> dict:
    """In a fresh process: the plain read, then the load end to end."""
    from flexhub.platform.coordination.services.neighbourhoods import replace

    db = Database(url)
    try:
        async with db.session() as s:
            t0 = time.perf_counter()
            await s.execute(text("SELECT 1"))
            round_trip = time.perf_counter() - t0
        before_rss, before_peak = _rss_mb(), _peak_mb()
        async with db.session() as s:
            pid = await s.scalar(text("SELECT pg_backend_pid()"))
            server0 = _backend_cpu(pid)
            cpu0, t0 = _cpu(), time.perf_counter()
            rows = (
                await s.execute(
                    select(
                        EcLocation.tenant_id,
                        EcLocation.location_id,
                        EcLocation.user_id,
                        EcLocation.latitude,
                        EcLocation.longitude,
                    )
                )
            ).all()
            read, read_cpu = time.perf_counter() - t0, _cpu() - cpu0
            read_server = _backend_cpu(pid) - server0
        del rows
        async with db.session() as s:
            pid = await s.scalar(text("SELECT pg_backend_pid()"))
            server0 = _backend_cpu(pid)
            cpu0, t0 = _cpu(), time.perf_counter()
            with open(path, "rb") as fh:
                specs = parse_collection(json.loads(fh.read()))
            done = await replace(s, specs, sandbox=False)
            load, load_cpu = time.perf_counter() - t0, _cpu() - cpu0
            load_server = _backend_cpu(pid) - server0
        return {
            "round_trip_ms": round_trip * 1000,
            "read_s": read,
            "read_cpu_s": read_cpu,
            "load_s": load,
            "load_cpu_s": load_cpu,
            "read_server_s": read_server,
            "load_server_s": load_server,
            "peak_mb": _peak_mb(),
            "before_mb": max(before_rss, before_peak),
            "added": len(done.added),
            "eligible": done.usersAdded,
        }
    finally:
        await db.dispose()


def in_memory(size: int, areas: int) -> tuple[float, float, float, int]:
    """Seconds (wall, CPU) to place ``size`` points in ``areas`` neighbourhoods (index built),
    a numpy bounding-box pass per area over the same points, and how many were placed."""
    data, centres, meters = neighbourhoods(areas)
    specs = parse_collection(data)
    index = Placement(AreaInput(s.id, s.shape(), s.meter_point_ids) for s in specs)
    lat, lon, _ = locations(size, centres, meters)
    index.place_points(lat[:100], lon[:100])  # warm
    cpu0, t0 = _cpu(), time.perf_counter()
    placed = index.place_points(lat, lon)
    placing, placing_cpu = time.perf_counter() - t0, _cpu() - cpu0
    c = np.array(centres)
    t0 = time.perf_counter()
    for lo, la, r in c[:: max(1, len(c) // 50)]:  # 50 of the boxes, one numpy pass each
        np.count_nonzero((np.abs(lon - lo) <= r) & (np.abs(lat - la) <= r))
    bare = (time.perf_counter() - t0) * len(c) / len(c[:: max(1, len(c) // 50)])
    return placing, placing_cpu, bare, int((placed >= 0).sum())


async def _with_database(size: int, areas: int) -> dict:
    admin = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"flexhub_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="flexhub-bench-") as tmp:
            path = Path(tmp) / "neighbourhoods.geojson"
            await seed(url, size, areas, path)
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def figures(quick: bool) -> list[Figure]:
    size, areas = (10_000, 50) if quick else (100_000, 500)
    n = f"{size:,} locations in {areas} neighbourhoods"
    placing, placing_cpu, bare, _ = in_memory(size, areas)
    r = asyncio.run(_with_database(size, areas))
    return [
        Figure(
            f"place {n} (in memory)",
            placing * 1000,
            "ms",
            "numpy bounding-box pass per area, same points",
            bare * 1000,
            target="well under 1 s",
        ),
        Figure(
            "  CPU of that placing",
            placing_cpu * 1000,
            "ms",
            "the numpy pass",
            bare * 1000,
        ),
        Figure(
            f"load {n}, end to end (PostgreSQL)",
            r["load_s"],
            "s",
            "plain read of the same location rows",
            r["read_s"],
            target="< 5 s",
        ),
        Figure(
            "  CPU of that load (this process)",
            r["load_cpu_s"],
            "s",
            "CPU of the plain read",
            r["read_cpu_s"],
        ),
        Figure(
            "  PostgreSQL backend CPU of that load",
            r["load_server_s"],
            "s",
            "backend CPU of the plain read",
            r["read_server_s"],
        ),
        Figure(
            "  peak memory of that process",
            r["peak_mb"],
            "MB",
            "the same process before the load",
            r["before_mb"],
            target="< 500 MB",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 locations, 50 areas")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(*args.child))))
        return
    load = os.getloadavg()[0]
    print(f"engines benchmark (load average {load:.1f} on {os.cpu_count()} cores)")
    for f in figures(args.quick):
        ratio = f"{f.ratio:6.1f}x" if f.ratio is not None else "   n/a"
        target = f"  target {f.target}" if f.target else ""
        print(
            f"{f.name:<58} {f.value:9.2f} {f.unit:<3} | {f.reference}: "
            f"{f.reference_value:.2f} {f.unit} ({ratio}){target}"
        )


if __name__ == "__main__":
    main()

"""``flexhub platform forecast import FILE`` and ``flexhub platform price-curves --date``
against an SQLite file: the imported need becomes one PriceCurve event for the enrolled user's
resource, a second run sends nothing, a bad file changes nothing."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select
from typer.testing import CliRunner

from flexhub.cli import app
from flexhub.clock import utcnow
from flexhub.platform.engines.neighbourhoods import square
from flexhub.store.coordination import (
    EcEnrollment,
    EcEvent,
    EcLocation,
    EcResource,
    EcUser,
    Neighbourhood,
)
from flexhub.store.database import Database
from flexhub.store.grid import ForecastNeed
from flexhub.store.partners import Partner


def _env(tmp_path) -> dict[str, str]:
    return {
        "FLEXHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FLEXHUB_DATA_DIR": str(tmp_path / "data"),
    }


async def _seed(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        now = utcnow()
        async with db.session() as s:
            ring = square(60.0, 10.0, 0.01)
            s.add(
                Neighbourhood(
                    id="nh-cli",
                    name="cli",
                    price_area="NO1",
                    currency="NOK",
                    polygon=ring,
                    geometry={"type": "Polygon", "coordinates": [ring]},
                    meter_point_ids=[],
                    time_zone="Europe/Oslo",
                    params={},
                    created_at=now,
                )  # fmt: skip
            )
            s.add(Partner(id="p1", name="p1", role="provider", client_id="c1", secret_hash="x"))
            await s.flush()
            s.add(EcUser(tenant_id="p1", user_id="u1", eligible=True, created_at=now))
            await s.flush()
            s.add(
                EcLocation(
                    tenant_id="p1",
                    location_id="l1",
                    user_id="u1",
                    latitude=60.0,
                    longitude=10.0,
                    created_at=now,
                    modified_at=now,
                )  # fmt: skip
            )
            await s.flush()
            s.add(
                EcResource(
                    tenant_id="p1",
                    resource_id="r1",
                    user_id="u1",
                    location_id="l1",
                    resource_type="HotWaterTank",
                    created_at=now,
                )  # fmt: skip
            )
            s.add(EcEnrollment(tenant_id="p1", user_id="u1", enrollment_id=str(uuid.uuid4())))
            await s.commit()
    finally:
        await db.dispose()


async def _count(url: str, table) -> int:
    db = Database(url)
    try:
        async with db.session() as s:
            return await s.scalar(select(func.count()).select_from(table))
    finally:
        await db.dispose()


def test_forecast_import_and_price_curves_on_demand(tmp_path):
    env = _env(tmp_path)
    url = env["FLEXHUB_DATABASE_URL"]
    asyncio.run(_seed(url))
    runner = CliRunner()

    bad = tmp_path / "bad.csv"
    bad.write_text("neighbourhoodId,timestamp,needKw\nnh-cli,2027-03-28T18:00:00+02:00,5\nx,y,z\n")
    result = runner.invoke(app, ["platform", "forecast", "import", str(bad)], env=env)
    assert result.exit_code == 1 and "needs[1].timestamp" in result.output
    assert asyncio.run(_count(url, ForecastNeed)) == 0

    good = tmp_path / "needs.csv"
    good.write_text("neighbourhoodId,timestamp,needKw\nnh-cli,2027-03-28T18:00:00+02:00,5\n")
    result = runner.invoke(app, ["platform", "forecast", "import", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "imported 1 hourly needs for 1 neighbourhoods" in result.output

    result = runner.invoke(app, ["platform", "price-curves", "--date", "2027-03-28"], env=env)
    assert result.exit_code == 0, result.output
    assert "2027-03-28: 1 events, 1 targets sent" in result.output
    again = runner.invoke(app, ["platform", "price-curves", "--date", "2027-03-28"], env=env)
    assert again.exit_code == 0, again.output
    assert "already run for 2027-03-28: nh-cli" in again.output
    assert "0 events" in again.output
    assert asyncio.run(_count(url, EcEvent)) == 1

    for args in (["--date", "soon"], ["--date", "2027-03-28", "--price-area", "XX"]):
        assert runner.invoke(app, ["platform", "price-curves", *args], env=env).exit_code != 0


def test_two_processes_running_the_same_day_send_once(backend, tmp_path):
    """Two ``flexhub platform price-curves`` processes at once on the same database: the
    neighbourhood's events are sent by one of them."""
    import os
    import subprocess
    import sys
    from datetime import datetime

    suffix = uuid.uuid4().hex[:8]
    url = backend.url

    async def seed() -> None:
        db = Database(url)
        try:
            await db.upgrade()
            now = utcnow()
            async with db.session() as s:
                ring = square(-30.0, -60.0, 0.01)  # far from every other test's areas
                s.add(
                    Neighbourhood(
                        id=f"nh-{suffix}",
                        name="procs",
                        price_area="SE4",
                        currency="SEK",
                        polygon=ring,
                        geometry={"type": "Polygon", "coordinates": [ring]},
                        meter_point_ids=[],
                        time_zone="Europe/Stockholm",
                        params={},
                        created_at=now,
                    )  # fmt: skip
                )
                s.add(
                    Partner(
                        id=f"p-{suffix}",
                        name=f"p-{suffix}",
                        role="provider",
                        client_id=f"c-{suffix}",
                        secret_hash="x",
                    )  # fmt: skip
                )
                await s.flush()
                s.add(EcUser(tenant_id=f"p-{suffix}", user_id="u1", eligible=True))
                await s.flush()
                s.add(
                    EcLocation(
                        tenant_id=f"p-{suffix}",
                        location_id="l1",
                        user_id="u1",
                        latitude=-30.0,
                        longitude=-60.0,
                    )  # fmt: skip
                )
                await s.flush()
                s.add(
                    EcResource(
                        tenant_id=f"p-{suffix}",
                        resource_id="r1",
                        user_id="u1",
                        location_id="l1",
                        resource_type="Generic",
                    )  # fmt: skip
                )
                s.add(
                    EcEnrollment(
                        tenant_id=f"p-{suffix}", user_id="u1", enrollment_id=str(uuid.uuid4())
                    )
                )
                s.add(
                    ForecastNeed(
                        neighbourhood_id=f"nh-{suffix}",
                        hour=datetime.fromisoformat("2027-12-14T17:00:00+00:00"),
                        need_kw=3.0,
                    )
                )
                await s.commit()
        finally:
            await db.dispose()

    asyncio.run(seed())
    env = {**os.environ, "FLEXHUB_DATABASE_URL": url, "FLEXHUB_DATA_DIR": str(tmp_path / "d")}
    command = [
        sys.executable,
        "-m",
        "flexhub.cli",
        "platform",
        "price-curves",
        "--date",
        "2027-12-14",
    ]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    async def events() -> int:
        db = Database(url)
        try:
            async with db.session() as s:
                return await s.scalar(
                    select(func.count())
                    .select_from(EcEvent)
                    .where(EcEvent.tenant_id == f"p-{suffix}")
                )
        finally:
            await db.dispose()

    assert asyncio.run(events()) == 1
    sent = [o for o in outputs if f"nh-{suffix} (SE4): 1 hours with a need, 1 events" in o]
    assert len(sent) == 1, outputs

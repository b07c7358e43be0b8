"""The soak's parts (``bench/soak.py``): a fresh PostgreSQL database, ``flexhub platform serve``,
``flexhub worker`` and ``flexhub agent run`` as subprocesses on loopback, and the seed of the
resources the price curves go to.

The 100,000 resources are loaded in bulk (COPY, as ``bench/price_curves.py`` does): a provider's
users, their locations (with a meter point, inside one of the neighbourhoods), a hot water tank
and a charger at each, enrolled and eligible. Registering them one API call at a time is not
what the soak is about; the neighbourhoods, the Flex Market asset, competition and obligation
go through the APIs with flexhub's own clients.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from home_rows import HomeRows  # bench/home_rows.py (soak.py put bench/ on sys.path)

PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
FLEXHUB = str(Path(sys.executable).with_name("flexhub"))


def dsn(url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class SoakDatabase:
    """A database of its own on the PostgreSQL server, dropped at the end."""

    def __init__(self) -> None:
        self.name = f"flexhub_soak_{uuid.uuid4().hex[:8]}"
        self.url = make_url(PG).set(database=self.name).render_as_string(hide_password=False)

    async def create(self) -> None:
        conn = await asyncpg.connect(dsn(PG), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()

    async def drop(self) -> None:
        conn = await asyncpg.connect(dsn(PG), timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def terminate_backends(self) -> int:
        """``pg_terminate_backend`` on every connection to the soak's database, from a
        separate connection (to the server's own database): how many were ended."""
        conn = await asyncpg.connect(dsn(PG), timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.name,
            )
            return sum(1 for r in rows if r["ended"])
        finally:
            await conn.close()


class Process:
    """One ``flexhub ...`` subprocess, its output appended to ``log`` (across restarts)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log_path = name, args, env, log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            log.write(f"\n--- soak: start {self.name} at {time.time():.3f}\n")
            log.flush()
            self.proc = subprocess.Popen(
                [FLEXHUB, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no chance to release anything."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=20)
            self.proc = None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """``sig`` (SIGTERM, or SIGINT as Ctrl-C), and SIGKILL if it has not stopped within
        ``timeout``."""
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


async def wait_http(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:g} s")


@dataclass(frozen=True)
class Partner:
    id: str
    client_id: str
    secret: str


def platform_env(db_url: str, data_dir: Path, port: int) -> dict[str, str]:
    """What the platform and its workers run with: the soak's database, webhooks to loopback
    allowed, no rate limit in the way of the offered load, retries seconds apart (the
    production backoff starts at a minute: an agent down for 20 s would wait out its
    minute), no daily price-curve schedule (the soak runs its own)."""
    return {
        **os.environ,
        "FLEXHUB_DATABASE_URL": db_url,
        "FLEXHUB_DATA_DIR": str(data_dir / "keys"),
        "FLEXHUB_PORT": str(port),
        "FLEXHUB_WEBHOOK_ALLOW_PRIVATE": "true",
        "FLEXHUB_RATE_LIMIT_API_PER_PARTNER": "1000000/minute",
        "FLEXHUB_RATE_LIMIT_TOKEN_PER_CLIENT": "10000/minute",
        "FLEXHUB_RATE_LIMIT_TOKEN_PER_ADDRESS": "10000/minute",
        "FLEXHUB_FM_RETRY_BASE_SECONDS": "1",
        "FLEXHUB_FM_RETRY_FACTOR": "2",
        "FLEXHUB_FM_RETRY_MAX_SECONDS": "8",
        "FLEXHUB_FM_RETRY_MAX_ATTEMPTS": "30",
        "FLEXHUB_EC_RETRY_BASE_SECONDS": "1",
        "FLEXHUB_EC_RETRY_FACTOR": "2",
        "FLEXHUB_EC_RETRY_MAX_SECONDS": "8",
        "FLEXHUB_EC_RETRY_MAX_ATTEMPTS": "30",
        "FLEXHUB_PRICE_CURVE_SCHEDULE": "",
        "FLEXHUB_SANDBOX_NEIGHBOURHOODS": "false",
        "COLUMNS": "500",  # the CLI prints the secret on one line
    }


def add_partner(env: dict[str, str], name: str, role: str) -> Partner:
    out = subprocess.run(
        [FLEXHUB, "partner", "add", name, "--role", role],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fields = {
        k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in out.splitlines() if ":" in ln)
    }
    return Partner(fields["partner id"], fields["client id"], fields["client secret"])


# --- the grid and the registry -----------------------------------------------------------------


def neighbourhoods(count: int, homes_each: int) -> dict:
    """``count`` square neighbourhoods south of Oslo whose transformers are too small for the
    evening (a price curve each day), with no forecast power limit (``lpc_margin``)."""
    features = []
    for i in range(count):
        lat, lon = 59.0 + (i // 10) * 0.1, 10.0 + (i % 10) * 0.1
        ring = [
            [lon - 0.04, lat - 0.04],
            [lon + 0.04, lat - 0.04],
            [lon + 0.04, lat + 0.04],
            [lon - 0.04, lat + 0.04],
            [lon - 0.04, lat - 0.04],
        ]
        features.append(
            {
                "type": "Feature",
                "id": f"nh-{i:03d}",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "name": f"Soak {i}",
                    "priceArea": "NO1",
                    "timeZone": "Europe/Oslo",
                    "currency": "NOK",
                    "capacityKw": round(homes_each * 1.0, 1),
                    "params": {"lpc_margin": 1000},
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def centre(i: int) -> tuple[float, float]:
    return 59.0 + (i // 10) * 0.1, 10.0 + (i % 10) * 0.1


async def seed_resources(db_url: str, tenant: str, resources: int, areas: int) -> None:
    """``resources // 2`` users of ``tenant``, each with a location (meter point ``mp-u``)
    in neighbourhood ``u % areas``, a hot water tank ``t<u>`` and a charger ``c<u>`` there,
    enrolled and eligible."""
    rows = HomeRows().add(
        tenant,
        resources // 2,
        centre=lambda u: centre(u % areas),
        meter=lambda u: f"mp-{u}",
        rng=random.Random(13),
        now=datetime.now(UTC),
    )
    conn = await asyncpg.connect(dsn(db_url))
    try:
        await rows.copy(conn)
    finally:
        await conn.close()


def agent_assets(resources: int, run: int, flex_asset_id: str) -> list[dict]:
    """The agent's inventory: the battery behind the Flex Market asset (large enough for
    every instruction of the soak at 1 kW each), and the first ``run`` hot water tanks of the
    registry (the price curves' targets it acts on)."""
    assets: list[dict] = [
        {
            "asset_id": "soak-battery",
            "driver": "sim",
            "kind": "battery",
            "max_import_kw": 1_000_000.0,
            "max_export_kw": 1_000_000.0,
            "flex_asset_id": flex_asset_id,
            "device": {"capacity_kwh": 10_000_000.0, "soc_kwh": 9_000_000.0},
        }
    ]
    for u in range(min(run, resources // 2)):
        assets.append(
            {
                "asset_id": f"t{u}",
                "driver": "sim",
                "kind": "water_heater",
                "max_import_kw": 3.0,
                "location_id": f"l{u}",
                "meter_point_id": f"mp-{u}",
                "resource_id": f"t{u}",
            }
        )
    return assets


# --- the run's options and record (here, not in soak.py: bench/run.py loads soak.py without
# putting it in sys.modules, where dataclasses cannot be made)


@dataclass
class Options:
    minutes: float = 5.0
    rate: float = 1000.0  # instructions per minute
    resources: int = 100_000
    neighbourhoods: int = 20
    agent_resources: int = 1000  # of the registry's hot water tanks, run by the agent
    worker_down: float = 10.0
    agent_down: float = 20.0
    window: float = 60.0  # seconds each instruction runs
    drain: float = 180.0  # at most this long after the load for the backlog to clear
    keep: bool = False  # keep the run's directory (logs, agent store)


@dataclass
class Run:
    opts: Options
    dir: Path
    db: SoakDatabase = field(default_factory=SoakDatabase)
    issued: list = field(default_factory=list)  # of soak_check.Issued
    refused: list[str] = field(default_factory=list)
    faults: list = field(default_factory=list)  # of soak_check.Fault
    curve_runs: list[tuple[float, float, dict]] = field(default_factory=list)
    t0: float = 0.0

"""Provider agent benchmark: prints

1. the latency from the SO's ``POST /so/v1/dispatches/`` to the agent's first asset command
   (p50, p99) with instructions issued at a steady rate (100/s), the platform (``flexhub
   platform serve``, PostgreSQL, SQLite when there is no server) in its own process, the agent
   in this one driving simulated assets; beside a bare loopback HTTP hop (aiohttp client to a
   bare aiohttp server) plus a trivial PostgreSQL commit, measured in the same run (on stderr:
   the SO POST's answer time, POST -> webhook stored, stored -> processed);
2. the agent's receiver framework: a webhook answered (HMAC checked on the raw body) by an
   aiohttp app and by a bare ASGI app under uvicorn, each in its own process (sequential p50
   and requests/s with 32 in flight);
3. the agent's memory with 100,000 resources (a process holding the config, the fleet and the
   simulated devices, beside the same process before it loads them).

Run: ``.venv/bin/python bench/agent.py [--quick]``. Figures depend on the machine; nothing
here asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from figures import Figure, free_port, percentile  # noqa: E402  (bench/figures.py)
from receiver_frameworks import receiver_speed  # noqa: E402


def z(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- a bare loopback hop ------------------------------------------------------------------------


async def bare_hop(samples: int) -> list[float]:
    """Sequential POSTs from an aiohttp client to a bare aiohttp server in this process: ms."""

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    out = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(samples):
                t = time.perf_counter()
                async with http.post(f"http://127.0.0.1:{port}/", data=b"{}") as r:
                    await r.read()
                out.append((time.perf_counter() - t) * 1000)
    finally:
        await runner.cleanup()
    return out


# --- the platform in its own process ----------------------------------------------------------


PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def pg_admin(sql: str) -> bool:
    """Run ``sql`` on the PostgreSQL server; ``False`` when it is not reachable."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
    return True


async def trivial_commits(samples: int) -> list[float]:
    """ms of a trivial PostgreSQL transaction (``SELECT 1`` committed) on one connection; empty
    when there is no server."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return []
    out = []
    try:
        for _ in range(samples):
            t = time.perf_counter()
            async with conn.transaction():
                await conn.execute("SELECT 1")
            out.append((time.perf_counter() - t) * 1000)
    finally:
        await conn.close()
    return out


class PlatformProcess:
    """``flexhub platform serve`` on a fresh PostgreSQL database (SQLite when there is no
    server), with its worker inside."""

    def __init__(self, data_dir: Path, db_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = db_url or f"sqlite+aiosqlite:///{data_dir}/platform.db"
        self.env = {
            **os.environ,
            "FLEXHUB_DATABASE_URL": self.db_url,
            "FLEXHUB_DATA_DIR": str(data_dir / "keys"),
            "FLEXHUB_PORT": str(self.port),
            "FLEXHUB_WEBHOOK_ALLOW_PRIVATE": "true",
            "FLEXHUB_RATE_LIMIT_API_PER_PARTNER": "1000000/minute",
            "FLEXHUB_RATE_LIMIT_TOKEN_PER_CLIENT": "10000/minute",
            "FLEXHUB_RATE_LIMIT_TOKEN_PER_ADDRESS": "10000/minute",
            "COLUMNS": "500",  # the CLI prints the secret on one line
        }
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        flexhub = Path(sys.executable).with_name("flexhub")
        return subprocess.run(
            [str(flexhub), *args], env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def partner(self, name: str, role: str) -> tuple[str, str]:
        out = self.cli("partner", "add", name, "--role", role)
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        return fields["client id"].strip(), fields["client secret"].strip()

    async def start(self) -> None:
        flexhub = Path(sys.executable).with_name("flexhub")
        self.log = open(self.data_dir / "platform.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(flexhub), "platform", "serve"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(self.url + "/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the platform did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


async def token(http: aiohttp.ClientSession, base: str, client_id: str, secret: str) -> str:
    async with http.post(
        base + "/connect/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ) as r:
        return (await r.json())["access_token"]


async def post_json(http, url: str, bearer: str, body: dict) -> dict:
    async with http.post(url, json=body, headers={"Authorization": f"Bearer {bearer}"}) as r:
        if r.status not in (200, 201):
            raise RuntimeError(f"{url}: {r.status} {await r.text()}")
        return await r.json()


async def market(http: aiohttp.ClientSession, platform: PlatformProcess) -> dict[str, Any]:
    """An SO and a provider on ``platform`` with one 2 MW battery under an obligation that is
    in its service window all day: the SO's and the provider's tokens and credentials, the
    asset and the obligation."""
    so_id, so_secret = platform.partner(f"so-{uuid.uuid4().hex[:6]}", "system_operator")
    fsp_id, fsp_secret = platform.partner(f"fsp-{uuid.uuid4().hex[:6]}", "provider")
    await platform.start()
    so = await token(http, platform.url, so_id, so_secret)
    fsp = await token(http, platform.url, fsp_id, fsp_secret)
    asset = await post_json(
        http,
        platform.url + "/assets/v1/",
        fsp,
        {
            "ref": f"bench-{uuid.uuid4().hex[:6]}",
            "name": "Bench battery",
            "status": "operational",
            "asset_category": "storage",
            "asset_type": "battery",
            "voltage_level": "11.00",
            "country_code": "GB",
            "postcode": "SW1A 1AA",
            "active_export_capacity": "2.000",
            "response_time": "00:00:00",
        },
    )
    provider_id = asset["provider"]
    now = datetime.now(UTC)
    hour = (now - timedelta(hours=6)).hour
    comp = await post_json(
        http,
        platform.url + "/so/v1/competitions/",
        so,
        {
            "ref": f"comp-{uuid.uuid4().hex[:6]}",
            "name": "Bench",
            "need_direction": "deficit",
            "power_type": "active",
            "currency": "GBP",
            "bidding_open": z(now - timedelta(days=10)),
            "bidding_close": z(now - timedelta(days=5)),
            "service_periods": [
                {
                    "name": "All",
                    "start": str((now - timedelta(days=3)).date()),
                    "end": str((now + timedelta(days=3)).date()),
                    "service_windows": [
                        {
                            "name": "Always",
                            "start_time": f"{hour:02d}:00:00",
                            "end_time": f"{hour:02d}:00:00",
                            "service_days": [
                                "mon",
                                "tue",
                                "wed",
                                "thu",
                                "fri",
                                "sat",
                                "sun",
                            ],
                            "bank_holidays": "included",
                        }
                    ],
                }
            ],
        },
    )
    ob = await post_json(
        http,
        platform.url + "/so/v1/obligations/",
        so,
        {
            "competition_id": comp["id"],
            "provider": provider_id,
            "bid_id": "bid-1",
            "service_window_id": comp["service_periods"][0]["service_windows"][0]["id"],
            "start": str((now - timedelta(days=1)).date()),
            "end": str((now + timedelta(days=2)).date()),
            "capacity": "2.000",
            "need_direction": "deficit",
            "max_runtime": "04:00:00",
            "rates": [{"type": "utilisation", "value": "300.00"}],
            "assets": {"flex": [asset["id"]], "planned": []},
        },
    )
    return {
        "so": so,
        "fsp": fsp,
        "fsp_id": fsp_id,
        "fsp_secret": fsp_secret,
        "asset": asset,
        "obligation": ob,
    }


async def dispatch_latency(count: int, rate: float, data_dir: Path) -> list[float]:
    """ms from just before each SO POST to the agent's command of its asset (the dispatch's
    ``commanded_at``, taken right after ``set_power`` returned)."""
    from sqlalchemy.engine import make_url

    from flexhub.agent.config import AgentConfig
    from flexhub.agent.runtime import Agent

    name = f"flexhub_agent_bench_{uuid.uuid4().hex[:8]}"
    db_url = None
    if await pg_admin(f'CREATE DATABASE "{name}"'):
        db_url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    platform = PlatformProcess(data_dir, db_url)
    print(f"  platform on {'PostgreSQL' if db_url else 'SQLite'}", file=sys.stderr)
    agent = None
    try:
        async with aiohttp.ClientSession() as http:
            m = await market(http, platform)
            so, ob, asset = m["so"], m["obligation"], m["asset"]
            fsp_id, fsp_secret = m["fsp_id"], m["fsp_secret"]
            config = AgentConfig.model_validate(
                {
                    "data_dir": str(data_dir / "agent"),
                    "policy": "rules",
                    "reconcile_seconds": 3600,
                    "receiver": {"host": "127.0.0.1", "port": free_port()},
                    "flex_market": {
                        "base_url": platform.url,
                        "client_id": fsp_id,
                        "api_key": fsp_secret,
                        "require_so_signature": False,
                    },
                    "assets": [
                        {
                            "asset_id": "battery",
                            "kind": "battery",
                            "max_import_kw": 2000,
                            "max_export_kw": 2000,
                            "flex_asset_id": asset["id"],
                            "device": {"capacity_kwh": 100000, "soc_kwh": 90000},
                        }
                    ],
                }
            )
            agent = await Agent(config).start()
            posted: dict[str, tuple[float, float]] = {}  # id -> wall time of POST, answer
            failed: list[str] = []

            async def issue(i: int) -> None:
                start = datetime.now(UTC)
                body = {
                    "so_reference": f"b-{uuid.uuid4().hex[:12]}",
                    "obligation_id": ob["id"],
                    "start": z(start),
                    "end": z(start + timedelta(hours=1)),
                    "capacity": "0.001",  # 1 kW each: a thousand overlap on one battery
                    "need_direction": "deficit",
                    "instruction_type": "dispatch",
                }
                wall = time.time()
                try:
                    got = await post_json(http, platform.url + "/so/v1/dispatches/", so, body)
                except (RuntimeError, aiohttp.ClientError) as exc:  # the platform failed it
                    failed.append(str(exc)[:200])
                    return
                posted[got["id"]] = (wall, time.time())

            tasks = []
            t0 = time.monotonic()
            for i in range(count):
                await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
                tasks.append(asyncio.create_task(issue(i)))
            await asyncio.gather(*tasks)
            deadline = time.monotonic() + 180
            commanded: dict[str, float] = {}  # id -> wall time its asset was commanded
            while time.monotonic() < deadline:
                for row in await agent.store.dispatches():
                    if row["commanded_at"]:
                        commanded[row["instruction_id"]] = row["commanded_at"]
                if len(commanded) >= len(posted):
                    break
                # the agent records commanded_at itself: polling only finds the end, and each
                # poll (every row decoded in the agent's own loop) takes CPU from the agent
                await asyncio.sleep(1.0)
            if failed:
                print(f"  the platform failed {len(failed)} POSTs: {failed[0]}", file=sys.stderr)
            arrived = {m["subject"]: m for m in await agent.store.messages("fm")}
            answer = [(b - a) * 1000 for a, b in posted.values()]
            hop = [
                (arrived[i]["received_at"] - a) * 1000
                for i, (a, _) in posted.items()
                if i in arrived
            ]
            done = [
                (arrived[i]["processed_at"] - arrived[i]["received_at"]) * 1000
                for i in posted
                if i in arrived and arrived[i]["processed_at"]
            ]
            for name, xs in (
                ("SO POST answered", answer),
                ("POST -> webhook stored", hop),
                ("stored -> processed", done),
            ):
                if xs:
                    p50, p99 = statistics.median(xs), percentile(xs, 0.99)
                    print(f"  {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms", file=sys.stderr)
            return [(commanded[i] - posted[i][0]) * 1000 for i in commanded if i in posted]
    finally:
        if agent is not None:
            await agent.stop()
        platform.stop()
        if db_url:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- memory with many resources ---------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def memory_child(resources: int) -> None:
    """Child process: RSS before and after holding ``resources`` assets (config, fleet,
    simulated devices)."""
    from flexhub.agent.config import AgentConfig
    from flexhub.agent.fleet import Fleet
    from flexhub.clock import SystemClock
    from flexhub.sim.driver import SimulatedDriver  # noqa: F401  (imported before measuring)

    before = rss_mb()
    kinds = [
        ("water_heater", {"max_import_kw": 3.0}),
        ("ev", {"max_import_kw": 7.0}),
        ("heat_pump", {"max_import_kw": 4.0}),
        ("battery", {"max_import_kw": 5.0, "max_export_kw": 5.0}),
    ]
    assets = []
    for i in range(resources):
        kind, limits = kinds[i % len(kinds)]
        assets.append(
            {
                "asset_id": f"a{i}",
                "kind": kind,
                "location_id": f"l{i // 2}",
                "resource_id": f"r{i}",
                **limits,
            }
        )
    config = AgentConfig.model_validate({"assets": assets})
    fleet = Fleet(config.specs(), SystemClock())
    asyncio.run(fleet.start())
    del assets
    after = rss_mb()
    print(json.dumps({"before": before, "after": after, "held": len(fleet.specs)}))


def memory(resources: int) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(resources)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    return got["after"], got["before"]


# --- figures ------------------------------------------------------------------------------------


async def _figures(quick: bool) -> list[Figure]:
    count = 200 if quick else 1000
    data_dir = Path(tempfile.mkdtemp(prefix="flexhub-agent-bench-"))
    hop = await bare_hop(500)
    commit = await trivial_commits(300) or [0.0]
    lat = await dispatch_latency(count, 100.0, data_dir)
    # the floor of SO POST -> asset command: one loopback hop and one commit (the platform's
    # write) beside it; p99 beside p99
    floor = "bare loopback HTTP hop + trivial PostgreSQL commit"
    figures = [
        Figure(
            f"SO dispatch -> agent asset command, p50 ({len(lat)} at 100/s)",
            statistics.median(lat),
            "ms",
            floor + ", p50",
            statistics.median(hop) + statistics.median(commit),
        ),
        Figure(
            f"SO dispatch -> agent asset command, p99 ({len(lat)} at 100/s)",
            percentile(lat, 0.99),
            "ms",
            floor + ", p99",
            percentile(hop, 0.99) + percentile(commit, 0.99),
        ),
    ]
    slow_n = 10 if quick else 20
    slow = await dispatch_latency(
        slow_n, 2.0, Path(tempfile.mkdtemp(prefix="flexhub-agent-bench-"))
    )
    figures.append(
        Figure(
            f"SO dispatch -> agent asset command, p50 ({len(slow)} at 2/s)",
            statistics.median(slow),
            "ms",
            floor + ", p50",
            statistics.median(hop) + statistics.median(commit),
        )
    )
    samples = 300 if quick else 2000
    a_p50, a_rate = await receiver_speed("aiohttp", samples)
    s_p50, s_rate = await receiver_speed("asgi", samples)
    figures += [
        Figure(
            "receiver (aiohttp), HMAC-checked webhook p50",
            a_p50,
            "ms",
            "bare ASGI (uvicorn)",
            s_p50,
        ),
        Figure(
            "receiver (aiohttp), 32 in flight", a_rate, "/s", "bare ASGI (uvicorn)", s_rate, True
        ),
    ]
    resources = 20_000 if quick else 100_000
    after, before = memory(resources)
    figures.append(
        Figure(
            f"agent memory with {resources:,} resources",
            after,
            "MB",
            "the same process before loading them",
            before,
        )
    )
    return figures


def figures(quick: bool) -> list[Figure]:
    return asyncio.run(_figures(quick))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-child", type=int)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for f in figures(args.quick):
        ratio = f"x{f.ratio:.2f}" if f.ratio is not None else ""
        print(
            f"{f.name:<58} {f.value:10.2f} {f.unit:<3} | {f.reference}: "
            f"{f.reference_value:.2f} {f.unit} {ratio}"
        )


if __name__ == "__main__":
    main()

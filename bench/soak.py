"""The soak with faults: dispatch instructions at a steady rate (1,000 a minute) and a day of
price curves for 100,000 resources through ``flexhub platform serve``, two ``flexhub worker``
processes and ``flexhub agent run`` (all subprocesses, loopback only, a PostgreSQL database of
their own, created and dropped here), while

1. a worker is SIGKILLed and restarted after ``--worker-down`` seconds;
2. every PostgreSQL connection to the soak's database is ended (``pg_terminate_backend``, from
   a separate connection);
3. the agent is stopped (SIGTERM, as a service manager stops it) for ``--agent-down`` seconds
   and started again.

The SO is flexhub's own Flex Market operator client (``FlexMarketOperatorClient``, signing
every instruction); the price curves are the platform's own run (``POST
/operator/price-curve-runs`` through ``CoordinationOperatorClient``). At the end
(``bench/soak_check.py``) every instruction and every price-curve event must have reached the
agent and been acted on exactly once: one inbox message each, processed once (the agent's log
over all its lifetimes), one asset command per instruction; the platform's delivery logs say
how often each was delivered. It prints throughput, latency (SO POST -> the agent's answer /
asset command) and the time the flow took to be back to normal after each fault.

Run: ``.venv/bin/python bench/soak.py [--minutes 5] [--rate 1000] [--resources 100000]``
(``--help`` for the rest); ``figures(quick)`` for ``bench/run.py``. Nothing here asserts on
speed; it exits 1 when something was lost or acted on twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from figures import Figure, free_port  # noqa: E402  (bench/figures.py)
from flexhub.clients import (  # noqa: E402
    ApiError,
    CoordinationOperatorClient,
    FlexMarketOperatorClient,
    FlexMarketProviderClient,
    TransportError,
)
from flexhub.clock import SystemClock  # noqa: E402
from flexhub.demo.provider import to_toml  # noqa: E402
from flexhub.sim.operator import OperatorRobot  # noqa: E402
from soak_check import Fault, Issued, Outcome, check  # noqa: E402
from soak_setup import (  # noqa: E402
    Options,
    Process,
    Run,
    add_partner,
    agent_assets,
    dsn,
    neighbourhoods,
    platform_env,
    seed_resources,
    wait_http,
)

EC = "/energy-coordination/v1"


class Soak:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.run = Run(opts, Path(tempfile.mkdtemp(prefix="flexhub-soak-")))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = platform_env(self.run.db.url, self.run.dir, self.port)
        self.so_key = ed25519.Ed25519PrivateKey.generate()

    def say(self, text: str) -> None:
        since = time.time() - self.run.t0 if self.run.t0 else 0.0
        print(f"[{since:7.1f} s] {text}", file=sys.stderr, flush=True)

    # --- setting up ---------------------------------------------------------------------------

    async def setup(self) -> None:
        o, run = self.opts, self.run
        await run.db.create()
        self.so = add_partner(self.env, "Soak SO", "system_operator")
        self.fsp = add_partner(self.env, "Soak provider", "provider")
        self.admin = add_partner(self.env, "Soak admin", "admin")
        logs = run.dir
        self.platform = Process(
            "platform", ["platform", "serve", "--no-worker"], self.env, logs / "platform.log"
        )
        self.workers = [
            Process(f"worker-{i}", ["worker"], self.env, logs / f"worker-{i}.log") for i in (1, 2)
        ]
        self.platform.start()
        await wait_http(self.base + "/healthz")
        for w in self.workers:
            w.start()
        self.say(f"platform on {self.base} (PostgreSQL {run.db.name}), 2 workers")
        async with CoordinationOperatorClient(
            self.base + EC, client_id=self.admin.client_id, client_secret=self.admin.secret
        ) as operator:
            homes_each = max(1, o.resources // 2 // o.neighbourhoods)
            await operator.put_neighbourhoods(neighbourhoods(o.neighbourhoods, homes_each))
        t = time.perf_counter()
        await seed_resources(run.db.url, self.fsp.id, o.resources, o.neighbourhoods)
        self.say(f"{o.resources:,} resources seeded in {time.perf_counter() - t:.1f} s")
        async with FlexMarketProviderClient(
            self.base, client_id=self.fsp.client_id, api_key=self.fsp.secret
        ) as fm:
            asset = await fm.create_asset(
                {
                    "ref": f"soak-{uuid.uuid4().hex[:6]}",
                    "name": "Soak battery",
                    "status": "operational",
                    "asset_category": "storage",
                    "asset_type": "battery",
                    "voltage_level": "11.00",
                    "country_code": "GB",
                    "postcode": "SW1A 1AA",
                    "active_export_capacity": "1000.000",
                    "response_time": "00:00:00",
                }
            )
        self.so_client = FlexMarketOperatorClient(
            self.base, client_id=self.so.client_id, api_key=self.so.secret, signing_key=self.so_key
        )
        robot = OperatorRobot(self.so_client, SystemClock())
        competition = await robot.open_competition(days=3, name="Soak")
        self.obligation = await robot.award(
            competition, asset.provider, [asset.id], Decimal("1000.000"), max_runtime="04:00:00"
        )
        self.agent = Process(
            "agent", ["agent", "run", "--config", str(self.write_agent(asset.id))], self.env,
            logs / "agent.log",
        )  # fmt: skip
        await self.start_agent()
        self.say(f"agent on {self.agent_url} with {o.agent_resources + 1} assets")

    def write_agent(self, flex_asset_id: str) -> Path:
        o = self.opts
        port = free_port()
        self.agent_url = f"http://127.0.0.1:{port}"
        self.agent_db = f"sqlite+aiosqlite:///{self.run.dir}/agent/agent.db"
        pem = self.so_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        config = {
            "data_dir": str(self.run.dir / "agent"),
            "database_url": self.agent_db,
            "policy": "rules",
            "zone": "Europe/Oslo",
            "reconcile_seconds": 3600.0,  # only at start: what the webhooks lose shows
            "receiver": {"host": "127.0.0.1", "port": port, "public_url": self.agent_url},
            "coordination": {
                "base_url": self.base + EC,
                "token_url": self.base + "/connect/token",
                "client_id": self.fsp.client_id,
                "client_secret": self.fsp.secret,
                "webhook_secret": uuid.uuid4().hex,
            },
            "flex_market": {
                "base_url": self.base,
                "client_id": self.fsp.client_id,
                "api_key": self.fsp.secret,
                "so_public_keys": [pem.decode()],
                "require_so_signature": True,
            },
            "drivers": {"sim": {"zone": "Europe/Oslo"}},
            "assets": agent_assets(o.resources, o.agent_resources, flex_asset_id),
        }
        path = self.run.dir / "agent.toml"
        path.touch(mode=0o600)
        path.write_text(to_toml(config))
        return path

    async def start_agent(self) -> None:
        self.agent.start()
        await wait_http(self.agent_url + "/metrics", 120.0)
        # registered on both APIs before the first webhook is due
        conn = await asyncpg.connect(dsn(self.run.db.url))
        try:
            for _ in range(600):
                fm = await conn.fetchval(
                    "SELECT count(*) FROM fm_subscriptions WHERE tenant_id = $1", self.fsp.id
                )
                ec = await conn.fetchval(
                    "SELECT count(*) FROM ec_webhooks WHERE tenant_id = $1", self.fsp.id
                )
                if fm and ec:
                    return
                await asyncio.sleep(0.1)
        finally:
            await conn.close()
        raise RuntimeError("the agent did not register its webhooks")

    # --- the load -----------------------------------------------------------------------------

    async def issue(self, n: int) -> None:
        start = datetime.now(UTC).replace(microsecond=0)
        ref = f"soak-{n}-{uuid.uuid4().hex[:8]}"
        posted = time.time()
        try:
            got = await self.so_client.issue_dispatch(
                self.obligation.id,
                start=start,
                end=start + timedelta(seconds=self.opts.window),
                capacity=Decimal("0.001"),  # 1 kW each
                need_direction="deficit",
                so_reference=ref,
            )
        except (ApiError, TransportError) as exc:
            self.run.refused.append(f"{ref}: {exc}"[:300])
            return
        self.run.issued.append(Issued(got.id, posted, time.time()))

    async def load(self) -> None:
        o = self.opts
        count = int(o.minutes * o.rate)
        interval = 60.0 / o.rate
        tasks = []
        t0 = time.monotonic()
        for n in range(count):
            await asyncio.sleep(max(0.0, t0 + n * interval - time.monotonic()))
            tasks.append(asyncio.create_task(self.issue(n)))
        await asyncio.gather(*tasks)

    async def price_curves(self, day: date) -> None:
        async with CoordinationOperatorClient(
            self.base + EC,
            client_id=self.admin.client_id,
            client_secret=self.admin.secret,
            timeout=300.0,
        ) as operator:
            t = time.time()
            answer = await operator.run_price_curves(day)
            self.run.curve_runs.append((t, time.time(), answer))
        self.say(f"price curves for {day}: {time.time() - t:.1f} s")

    # --- the faults ---------------------------------------------------------------------------

    async def at(self, fraction: float) -> None:
        due = self.run.t0 + fraction * self.opts.minutes * 60
        await asyncio.sleep(max(0.0, due - time.time()))

    async def faults(self) -> None:
        o = self.opts
        await self.at(0.2)
        worker = self.workers[0]
        t = time.time()
        worker.kill()
        self.say(f"SIGKILL {worker.name}")
        await asyncio.sleep(o.worker_down)
        worker.start()
        self.run.faults.append(Fault("worker SIGKILLed", t, time.time()))
        self.say(f"{worker.name} restarted")
        await self.at(0.4)
        t = time.time()
        ended = await self.run.db.terminate_backends()
        self.run.faults.append(Fault(f"pg_terminate_backend ({ended} connections)", t, t))
        self.say(f"pg_terminate_backend: {ended} connections ended")
        await self.at(0.55)
        t = time.time()
        self.agent.stop(signal.SIGTERM)
        self.say("agent stopped (SIGTERM)")
        await asyncio.sleep(o.agent_down)
        await self.start_agent()
        self.run.faults.append(Fault("agent stopped", t, time.time()))
        self.say("agent started again")

    # --- the whole run ------------------------------------------------------------------------

    async def play(self) -> Outcome:
        o = self.opts
        try:
            await self.setup()
            self.run.t0 = time.time()
            tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
            self.say(f"{o.rate:g} instructions a minute for {o.minutes:g} min")

            async def curves() -> None:
                await self.at(0.1)
                await self.price_curves(tomorrow)

            await asyncio.gather(self.load(), self.faults(), curves())
            self.say(f"load done: {len(self.run.issued)} issued, {len(self.run.refused)} refused")
            return await check(self)
        finally:
            await self.close()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.so_client.close()
        for p in [getattr(self, "agent", None), *getattr(self, "workers", [])]:
            if p is not None:
                p.stop(signal.SIGINT)
        if getattr(self, "platform", None) is not None:
            self.platform.stop(signal.SIGINT)
        with contextlib.suppress(Exception):
            await self.run.db.drop()
        if not self.opts.keep:
            shutil.rmtree(self.run.dir, ignore_errors=True)
        else:
            print(f"kept {self.run.dir}", file=sys.stderr)


# --- figures ------------------------------------------------------------------------------------


def as_figures(out: Outcome) -> list[Figure]:
    o = out.opts
    figs = [
        Figure(
            f"soak: instructions and events lost or acted on twice ({out.instructions:,} "
            f"instructions, {out.events} events)",
            out.problems_count,
            "",
            "instructions + events",
            out.instructions + out.events,
            target="0",
        ),
        Figure(
            "soak: instructions commanded per minute",
            out.commanded_per_minute,
            "/min",
            "offered rate",
            o.rate,
            higher_is_better=True,
            target="1,000/min",
        ),
        Figure(
            "soak: SO POST -> asset command, p50 outside faults",
            out.latency_normal[0],
            "ms",
            "SO POST answered, p50",
            out.answer_p50,
        ),
        Figure(
            "soak: SO POST -> asset command, p99 outside faults",
            out.latency_normal[1],
            "ms",
            "SO POST answered, p99",
            out.answer_p99,
        ),
    ]
    for fault in out.faults:
        figs.append(
            Figure(
                f"soak: recovery after {fault.name}",
                fault.recovery if fault.recovery is not None else float("nan"),
                "s",
                "time the part was down",
                fault.down,
                target="≤ 30 s",
            )
        )
    return figs


def figures(quick: bool) -> list[Figure]:
    opts = (
        Options(
            minutes=0.35,
            resources=10_000,
            neighbourhoods=10,
            agent_resources=200,
            worker_down=2.0,
            agent_down=5.0,
            window=60.0,
            drain=60.0,
        )  # fmt: skip
        if quick
        else Options()
    )
    return as_figures(asyncio.run(Soak(opts).play()))


def main() -> None:
    d = Options()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=d.minutes, help="of load")
    p.add_argument("--rate", type=float, default=d.rate, help="instructions per minute")
    p.add_argument("--resources", type=int, default=d.resources, help="of the price curves")
    p.add_argument("--neighbourhoods", type=int, default=d.neighbourhoods)
    p.add_argument("--agent-resources", type=int, default=d.agent_resources)
    p.add_argument("--worker-down", type=float, default=d.worker_down, help="seconds")
    p.add_argument("--agent-down", type=float, default=d.agent_down, help="seconds")
    p.add_argument("--window", type=float, default=d.window, help="of each instruction, s")
    p.add_argument("--drain", type=float, default=d.drain, help="seconds at most after the load")
    p.add_argument("--keep", action="store_true", help="keep the logs and the agent's store")
    a = p.parse_args()
    opts = Options(
        a.minutes, a.rate, a.resources, a.neighbourhoods, a.agent_resources, a.worker_down,
        a.agent_down, a.window, a.drain, a.keep,
    )  # fmt: skip
    out = asyncio.run(Soak(opts).play())
    print(out.report())
    for f in as_figures(out):
        ratio = f"x{f.ratio:.2f}" if f.ratio is not None else ""
        ref = f"{f.reference}: {f.reference_value:g} {ratio}"
        print(f"{f.name:<66} {f.value:10.1f} {f.unit:<4} | {ref}")
    sys.exit(1 if out.problems_count else 0)


if __name__ == "__main__":
    main()

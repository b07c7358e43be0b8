"""Webhook delivery benchmark (PostgreSQL): prints

1. a bare aiohttp POST loop to a loopback receiver (32 in flight, and sequential p50);
2. signed deliveries per second with 1 and 2 ``flexhub worker`` processes;
3. latency from the API call that creates an event to its arrival at the receiver (p50, p99).

Run: ``.venv/bin/python bench/delivery.py [--events 3000] [--latency-samples 200]``;
``figures(quick)`` gives the same for ``bench/run.py``'s table (quick: 500 events).
Needs the PostgreSQL server (FLEXHUB_TEST_POSTGRES_URL, default the local one); it creates and
drops its own database. Figures depend on the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from figures import Figure, free_port
from flexhub.clock import utcnow
from flexhub.platform.auth import add_partner
from flexhub.platform.coordination.events import create_event
from flexhub.signing import payload_signature
from flexhub.store.coordination import EcWebhook
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow

HERE = Path(__file__).parent
PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "receiver.py"), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.3)

    def _read(self) -> None:
        for line in self.proc.stdout:
            ts, event_id = line.split()
            with self._cond:
                self.count += 1
                self.arrivals[event_id] = float(ts)
                self._cond.notify_all()

    def wait_event(self, event_id: str, timeout: float = 10) -> float:
        with self._cond:
            ok = self._cond.wait_for(lambda: event_id in self.arrivals, timeout)
        if not ok:
            raise TimeoutError(event_id)
        return self.arrivals[event_id]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


async def bare_post_loop(url: str, total: int, in_flight: int = 32) -> tuple[float, float]:
    body = json.dumps({"eventId": "bare", "payload": {"x": 1}}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Payload-Signature": payload_signature("secret", body),
    }
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as http:
        sem = asyncio.Semaphore(in_flight)

        async def one() -> None:
            async with sem, http.post(url, data=body, headers=headers) as r:
                await r.read()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        rate = total / (time.perf_counter() - start)
        lat = []
        for _ in range(300):
            t = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as r:
                await r.read()
            lat.append((time.perf_counter() - t) * 1000)
    return rate, statistics.median(lat)


async def seed(db: Database, url: str, count: int) -> str:
    async with db.session() as session:
        creds = await add_partner(session, f"bench-{uuid.uuid4().hex[:6]}")
        session.add(
            EcWebhook(
                id=str(uuid.uuid4()),
                tenant_id=creds.partner_id,
                url=url,
                secret="bench-secret",
                notification_types=["UserEligibilityUpdated"],
            )
        )
        await session.flush()
        for i in range(count):
            await create_event(
                session,
                creds.partner_id,
                {
                    "payloadType": "UserEligibility",
                    "lastUpdated": utcnow().isoformat(),
                    "addedUsers": [f"u{i}"],
                    "removedUsers": [],
                },
            )
        await session.commit()
    return creds.partner_id


def env_for(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLEXHUB_DATABASE_URL": url,
            "FLEXHUB_DATA_DIR": str(data_dir),
            "FLEXHUB_WEBHOOK_ALLOW_PRIVATE": "true",
        }
    )
    env.update(extra)
    return env


def start_workers(n: int, env: dict[str, str]) -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flexhub.cli", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(n)
    ]
    for p in procs:
        for line in p.stdout:
            if "delivering" in line:
                break
        threading.Thread(target=p.stdout.read, daemon=True).start()
    return procs


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=20)


async def delivered(db: Database, tenant: str) -> int:
    async with db.session() as session:
        return await session.scalar(
            select(func.count()).where(
                OutboxRow.tenant_id == tenant, OutboxRow.status == "delivered"
            )
        )


async def worker_throughput(
    db: Database, url: str, receiver: ReceiverProcess, workers: int, events: int, data_dir: Path
) -> float:
    """Seed the notifications first, then time the workers from start-up to the last one."""
    tenant = await seed(db, receiver.url, events)
    procs = start_workers(workers, env_for(url, data_dir))
    try:
        start = time.perf_counter()
        while await delivered(db, tenant) < events:
            await asyncio.sleep(0.02)
        return events / (time.perf_counter() - start)
    finally:
        stop_all(procs)


async def api_latency(
    url: str, receiver: ReceiverProcess, samples: int, data_dir: Path
) -> list[float]:
    port = free_port()
    env = env_for(url, data_dir, FLEXHUB_PORT=str(port))
    db = Database(url)
    async with db.session() as session:
        creds = await add_partner(session, f"lat-{uuid.uuid4().hex[:6]}")
        await session.commit()
    await db.dispose()
    server = subprocess.Popen(
        [sys.executable, "-m", "flexhub.cli", "platform", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base_url=base) as http:
            for _ in range(200):
                try:
                    async with http.get("/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with http.post(
                "/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": creds.client_id,
                    "client_secret": creds.client_secret,
                },
            ) as r:
                token = (await r.json())["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            ec = "/energy-coordination/v1"
            async with http.post(
                f"{ec}/webhooks",
                headers=auth,
                json={
                    "webhookUrl": receiver.url,
                    "webhookSecret": "s",
                    "notificationTypes": ["UserEligibilityUpdated"],
                },
            ) as r:
                assert r.status == 201, await r.text()
            lat: list[float] = []
            answered: list[float] = []
            for _ in range(samples):
                t0 = time.time()
                async with http.post(f"{ec}/simulation/events/usereligibility", headers=auth) as r:
                    event_id = (await r.json())["simulatedEvent"]["id"]
                answered.append((time.time() - t0) * 1000)
                arrived = await asyncio.to_thread(receiver.wait_event, event_id)
                lat.append((arrived - t0) * 1000)
            print(
                f"  API call answered: p50 {statistics.median(answered):.1f} ms",
                file=sys.stderr,
            )
            return lat
    finally:
        server.terminate()
        server.wait()


async def trivial_commit(url: str, samples: int = 200) -> float:
    """p50 ms of a trivial PostgreSQL transaction (``SELECT 1`` committed) on one connection."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        lat = []
        for _ in range(samples):
            t = time.perf_counter()
            async with conn.transaction():
                await conn.execute("SELECT 1")
            lat.append((time.perf_counter() - t) * 1000)
    finally:
        await conn.close()
    return statistics.median(lat)


async def collect(events: int, latency_samples: int, workers: tuple[int, ...] = (1, 2)) -> dict:
    """Every figure of this benchmark (deliveries with each number of ``workers``), in a
    database of its own (dropped at the end)."""
    admin = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"flexhub_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    receiver = ReceiverProcess()
    data_dir = Path(tempfile.mkdtemp(prefix="flexhub-bench-"))
    db = Database(url)
    out: dict = {"events": events}
    try:
        await db.upgrade()
        out["bare_rate"], out["bare_p50_ms"] = await bare_post_loop(receiver.url, events)
        out["commit_p50_ms"] = await trivial_commit(url)
        for n in workers:
            out[f"workers_{n}"] = await worker_throughput(db, url, receiver, n, events, data_dir)
        lat = sorted(await api_latency(url, receiver, latency_samples, data_dir))
        out["samples"] = len(lat)
        out["api_p50_ms"] = statistics.median(lat)
        out["api_p99_ms"] = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    finally:
        await db.dispose()
        receiver.stop()
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    return out


def figures(quick: bool) -> list[Figure]:
    """For ``bench/run.py``: deliveries per second beside the bare POST loop, and the API call
    to webhook arrival latency beside a bare hop plus a trivial commit (quick: 500 events, 2
    workers only; starting and stopping worker processes takes most of a quick run)."""
    r = asyncio.run(collect(500, 50, (2,)) if quick else collect(3000, 200))
    bare = "bare aiohttp POST loop, 32 in flight"
    hop = "bare sequential POST p50 + trivial PostgreSQL commit p50"
    floor = r["bare_p50_ms"] + r["commit_p50_ms"]
    out = [
        Figure(
            f"signed deliveries, {n} worker{'s' if n > 1 else ''}",
            r[f"workers_{n}"],
            "/s",
            bare,
            r["bare_rate"],
            True,
            "≥ 5,000/s and ≥ 50 % of bare" if n == 2 else "",
        )
        for n in (1, 2)
        if f"workers_{n}" in r
    ]
    return [
        *out,
        Figure(
            "API call -> webhook arrival p50",
            r["api_p50_ms"],
            "ms",
            hop,
            floor,
            target="≤ 2 × reference",
        ),
        Figure("API call -> webhook arrival p99", r["api_p99_ms"], "ms", hop, floor),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--latency-samples", type=int, default=200)
    args = parser.parse_args()
    r = await collect(args.events, args.latency_samples)
    print(
        f"bare aiohttp POST loop:      {r['bare_rate']:8.0f} POST/s (32 in flight), "
        f"sequential p50 {r['bare_p50_ms']:.2f} ms; trivial PostgreSQL commit p50 "
        f"{r['commit_p50_ms']:.2f} ms"
    )
    for workers in (1, 2):
        print(
            f"signed deliveries, {workers} worker{'s' if workers > 1 else ' '}: "
            f"{r[f'workers_{workers}']:8.0f} /s ({args.events} notifications, PostgreSQL)"
        )
    print(
        f"API call -> webhook arrival: p50 {r['api_p50_ms']:.1f} ms, "
        f"p99 {r['api_p99_ms']:.1f} ms ({r['samples']} events, worker inside `platform serve`)"
    )


if __name__ == "__main__":
    asyncio.run(main())

"""API request-path benchmark: ``flexhub platform serve`` as it runs in production (a subprocess
on a loopback port, its delivery worker and background loops inside), driven by an aiohttp load
generator on the same machine, with ``/healthz`` of the same server as the bare reference:

1. a fixed offered rate (open loop, latency from each request's due time) of 100, 200, 300
   and 500 requests/s, on SQLite (a file) and on PostgreSQL: ``/healthz`` p50/p99, then
   ``GET /energy-coordination/v1/events?pageSize=20`` of an authenticated partner p50/p99 and
   the rate answered;
2. the most requests per second (closed loop, many in flight) one server process and
   ``--workers 2`` answer on PostgreSQL, ``/healthz`` and ``GET /events``.

The partner has 500 events (and four other partners 2,000 each, so that its page is read from
a table that holds more than its own). The API rate limit is raised out of the way (the limiter
still counts every call).

Run: ``.venv/bin/python bench/api.py [--quick] [--rates 100 200 300 500] [--seconds 5]
[--only sqlite|postgres]``; ``figures(quick)`` gives the table of ``bench/run.py``. Needs the
PostgreSQL server (FLEXHUB_TEST_POSTGRES_URL, default the local one); it creates and drops its
own database. Figures depend on the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from figures import Figure, free_port
from flexhub.clock import utcnow
from flexhub.platform.auth import add_partner
from flexhub.platform.coordination.events import create_events
from flexhub.store.database import Database
from load import Run, closed_loop_in_processes, open_loop_in_processes, wait_healthy

PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
EVENTS_PATH = "/energy-coordination/v1/events?pageSize=20"
OWN_EVENTS = 500
OTHER_PARTNERS, OTHER_EVENTS = 4, 2000


_SEEDED: dict[str, tuple[str, str]] = {}


async def seed(url: str) -> tuple[str, str]:
    """Schema, the partner with its events and the other partners' events; its client id and
    secret (once per database: later servers on it reuse them)."""
    if url in _SEEDED:
        return _SEEDED[url]
    db = Database(url)
    try:
        await db.upgrade()
        async with db.session() as session:
            own = await add_partner(session, f"bench-{uuid.uuid4().hex[:6]}")
            others = [
                await add_partner(session, f"other-{i}-{uuid.uuid4().hex[:6]}")
                for i in range(OTHER_PARTNERS)
            ]
            for creds, count in [(own, OWN_EVENTS)] + [(o, OTHER_EVENTS) for o in others]:
                items = [
                    (
                        creds.partner_id,
                        {
                            "payloadType": "UserEligibility",
                            "lastUpdated": utcnow().isoformat(),
                            "addedUsers": [f"user-{i}"],
                            "removedUsers": [],
                        },
                    )
                    for i in range(count)
                ]
                await create_events(session, items, checked=True)
            await session.commit()
    finally:
        await db.dispose()
    _SEEDED[url] = (own.client_id, own.client_secret)
    return _SEEDED[url]


class Server:
    """``flexhub platform serve`` in a subprocess on a free loopback port (a plain class:
    ``bench/run.py`` imports this file under a name ``sys.modules`` does not know, which
    ``dataclass`` needs)."""

    def __init__(self, url: str, data_dir: Path, workers: int = 1) -> None:
        self.url = url
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Server:
        env = dict(os.environ)
        env.update(
            FLEXHUB_DATABASE_URL=self.url,
            FLEXHUB_DATA_DIR=str(self.data_dir),
            FLEXHUB_RATE_LIMIT_API_PER_PARTNER="100000000/minute",
            FLEXHUB_RATE_LIMIT_TOKEN_PER_CLIENT="",
            FLEXHUB_RATE_LIMIT_TOKEN_PER_ADDRESS="",
        )
        command = [sys.executable, "-m", "flexhub.cli", "platform", "serve"]
        command += ["--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        try:
            await wait_healthy(self.base)
        except TimeoutError:
            self.stop()
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"platform serve did not start:\n{tail}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None) is not None:
            self.log.close()

    async def token_headers(self, client_id: str, secret: str) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": client_id}
        form["client_secret"] = secret
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.base + "/connect/token", data=form) as r,
        ):
            body = await r.json()
        return {"Authorization": f"Bearer {body['access_token']}"}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and of its live descendants (the ``--workers``
    processes), from /proc: on a shared machine, the work a request costs whatever the wait."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return total
    return total + sum(cpu_seconds(int(c)) for c in children)


def _measured(server: Server, target, *args) -> tuple[Run, float]:
    """A load run and the server's CPU milliseconds per answered request during it."""
    before = cpu_seconds(server.proc.pid)
    run = target(*args)
    used = cpu_seconds(server.proc.pid) - before
    return run, (used * 1000 / run.answered if run.answered else float("nan"))


def _warm(base: str, headers: dict[str, str]) -> None:
    open_loop_in_processes(base + "/healthz", {}, 200, 1)
    open_loop_in_processes(base + EVENTS_PATH, headers, 200, 1)


async def rates_on(url: str, rates: list[int], seconds: float, data_dir: Path) -> dict:
    """``/healthz`` and ``GET /events`` at each offered rate, one server process."""
    client_id, secret = await seed(url)
    server = await Server(url, data_dir).start()
    out: dict[int, dict[str, Run]] = {}
    try:
        headers = await server.token_headers(client_id, secret)
        await asyncio.to_thread(_warm, server.base, headers)
        for rate in rates:
            health, health_cpu = await asyncio.to_thread(
                _measured,
                server,
                open_loop_in_processes,
                server.base + "/healthz",
                {},
                rate,
                seconds,
            )
            events, events_cpu = await asyncio.to_thread(
                _measured,
                server,
                open_loop_in_processes,
                server.base + EVENTS_PATH,
                headers,
                rate,
                seconds,
            )
            out[rate] = {
                "healthz": health,
                "events": events,
                "healthz_cpu": health_cpu,
                "events_cpu": events_cpu,
            }
    finally:
        server.stop()
    return out


async def throughput_on(
    url: str, workers: int, seconds: float, data_dir: Path, generators: int = 2
) -> dict[str, Run]:
    """The most ``/healthz`` and ``GET /events`` answers per second with ``workers`` server
    processes (32 requests in flight per generator process)."""
    client_id, secret = await seed(url)
    server = await Server(url, data_dir, workers=workers).start()
    try:
        headers = await server.token_headers(client_id, secret)
        await asyncio.to_thread(_warm, server.base, headers)
        health = await asyncio.to_thread(
            closed_loop_in_processes, server.base + "/healthz", {}, 32, seconds, generators
        )
        events = await asyncio.to_thread(
            closed_loop_in_processes, server.base + EVENTS_PATH, headers, 32, seconds, generators
        )
    finally:
        server.stop()
    return {"healthz": health, "events": events}


async def collect(
    rates: list[int],
    seconds: float,
    throughput_seconds: float,
    backends: tuple[str, ...],
    workers: tuple[int, ...] = (1, 2),
) -> dict:
    """Every figure, in a temporary directory (SQLite file, keys) and a PostgreSQL database of
    its own (dropped at the end)."""
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="flexhub-bench-api-") as tmp:
        tmp_path = Path(tmp)
        if "sqlite" in backends:
            url = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
            out["sqlite"] = await rates_on(url, rates, seconds, tmp_path / "sqlite-data")
        if "postgres" in backends:
            admin = make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)
            name = f"flexhub_bench_api_{uuid.uuid4().hex[:8]}"
            conn = await asyncpg.connect(admin)
            await conn.execute(f'CREATE DATABASE "{name}"')
            url = make_url(PG).set(database=name).render_as_string(hide_password=False)
            try:
                data = tmp_path / "pg-data"
                if rates:
                    out["postgres"] = await rates_on(url, rates, seconds, data)
                if throughput_seconds:
                    for n in workers:
                        out[f"workers_{n}"] = await throughput_on(url, n, throughput_seconds, data)
            finally:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()
    return out


def _label(backend: str) -> str:
    return "SQLite" if backend == "sqlite" else "PostgreSQL"


def figures_of(r: dict) -> list[Figure]:
    out = []
    for backend in ("sqlite", "postgres"):
        for rate, runs in r.get(backend, {}).items():
            health, events = runs["healthz"], runs["events"]
            target = "≤ 20 ms" if rate == 500 else ""
            ref = f"/healthz p99 at {rate}/s"
            name = f"GET /events p99 at {rate}/s, 1 process ({_label(backend)})"
            out.append(
                Figure(name, events.percentile(99), "ms", ref, health.percentile(99), target=target)
            )
            if rate == max(r[backend]):
                out.append(
                    Figure(
                        f"GET /events p50 at {rate}/s, 1 process ({_label(backend)})",
                        events.percentile(50),
                        "ms",
                        f"/healthz p50 at {rate}/s",
                        health.percentile(50),
                    )
                )
    for backend in ("sqlite", "postgres"):
        if r.get(backend):
            rate = min(r[backend])
            runs = r[backend][rate]
            out.append(
                Figure(
                    f"server CPU per GET /events at {rate}/s ({_label(backend)})",
                    runs["events_cpu"],
                    "ms",
                    "server CPU per /healthz",
                    runs["healthz_cpu"],
                )
            )
    for workers in (1, 2):
        runs = r.get(f"workers_{workers}")
        if runs:
            out.append(
                Figure(
                    f"GET /events most answered, --workers {workers} (PostgreSQL)",
                    runs["events"].rate,
                    "/s",
                    f"/healthz most answered, --workers {workers}",
                    runs["healthz"].rate,
                    True,
                    "≥ 1,500/s" if workers == 2 else "",
                )
            )
    return out


def figures(quick: bool) -> list[Figure]:
    """For ``bench/run.py``. Quick: 500/s for 3 s on PostgreSQL and the ``--workers 2``
    throughput for 2 s (55 s measured at a load average of 6, where a server that falls
    behind leaves requests to time out); full: every rate on both databases and both
    throughputs."""
    if quick:
        r = asyncio.run(collect([500], 3, 2, ("postgres",), (2,)))
    else:
        r = asyncio.run(collect([100, 200, 300, 500], 5, 5, ("sqlite", "postgres")))
    return figures_of(r)


def _ms(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:,.1f}"


def report(r: dict) -> str:
    lines = [f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"]
    for backend in ("sqlite", "postgres"):
        if backend not in r:
            continue
        lines.append(f"{_label(backend)}, one server process (open loop):")
        lines.append(
            "  offered   /healthz p50 / p99     GET /events p50 / p99     answered   failed"
            "   server CPU/request healthz / events"
        )
        for rate, runs in r[backend].items():
            h, e = runs["healthz"], runs["events"]
            lines.append(
                f"  {rate:>5}/s   {_ms(h.percentile(50)):>7} / {_ms(h.percentile(99)):>7} ms"
                f"   {_ms(e.percentile(50)):>8} / {_ms(e.percentile(99)):>8} ms"
                f"   {e.rate:>6.0f}/s   {e.failures + h.failures:>5}"
                f"   {runs['healthz_cpu']:.2f} / {runs['events_cpu']:.2f} ms"
            )
    for workers in (1, 2):
        runs = r.get(f"workers_{workers}")
        if runs:
            h, e = runs["healthz"], runs["events"]
            lines.append(
                f"PostgreSQL --workers {workers}, most answered (closed loop): "
                f"/healthz {h.rate:,.0f}/s, GET /events {e.rate:,.0f}/s "
                f"(p50 {_ms(e.percentile(50))} ms, {e.failures} failed)"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rates", type=int, nargs="*", default=[100, 200, 300, 500])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--throughput-seconds", type=float, default=5)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    if args.quick:
        r = asyncio.run(collect([500], 3, 2, ("postgres",), (2,)))
    else:
        backends = (args.only,) if args.only else ("sqlite", "postgres")
        r = asyncio.run(
            collect(
                args.rates, args.seconds, args.throughput_seconds, backends, tuple(args.workers)
            )
        )
    print(report(r))


if __name__ == "__main__":
    main()

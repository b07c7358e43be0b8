"""OCPP benchmark: how many charging stations one CSMS process holds when each gets a new
charging profile every minute, and the memory each costs, beside a bare reference.

For each number of stations N (``--stations 1000,5000``):

1. bare: a plain ``websockets`` server process holding N idle connections (no OCPP, the same
   settings: no compression, the same keep-alive), clients in other processes; its memory
   per connection;
2. OCPP: a :class:`~flexhub.agent.protocols.ocpp.Csms` process holding N simulated stations
   (:class:`~flexhub.sim.ocpp_station.SimStation`, OCPP 2.0.1, HTTP Basic, booted, one EVSE,
   meter values every minute, in client processes); the CSMS sends each station a new
   profile (``set_power``: a SetChargingProfile round trip) once a minute, spread evenly, for
   ``--minutes``; printed: updates sent per minute against the target, their answer time
   (p50, p99), how many were not accepted, the CSMS process's CPU and its memory per station;
3. driver: the same through the agent's :class:`~flexhub.agent.drivers.ocpp.OcppDriver`
   (loaded from the ``flexhub.drivers`` registry, one asset per station, each update a
   ``Driver.set_power``): what one agent process holds, and what the driver adds.

``figures(quick)`` gives them to the ``make bench`` table (5,000 stations; quick: 500).

Run: ``.venv/bin/python bench/ocpp.py [--stations 1000,5000] [--minutes 2]``;
``figures(quick)`` gives the table's figures to ``bench/run.py``. The clients run
on the same machine and take CPU too; figures depend on the machine and nothing here asserts
on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from figures import Figure, free_port

PASSWORD = "bench-station-password"
PER_CLIENT = 2500  # connections per client process
HERE = Path(__file__).resolve()
# this file is named like the ``ocpp`` library: keep its directory off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE.parent]


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


def station_ids(n: int) -> list[str]:
    return [f"BENCH-{i:05d}" for i in range(n)]


# --- the processes ------------------------------------------------------------------------


async def serve_bare(port: int, n: int) -> None:
    from websockets.asyncio.server import serve

    connected = 0

    async def hold(ws) -> None:
        nonlocal connected
        connected += 1
        async for _ in ws:
            pass

    async with serve(hold, "127.0.0.1", port, compression=None, ping_interval=60):
        base = rss_kb()
        say(event="ready", rss_kb=base)
        while connected < n:
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)
        say(event="connected", rss_kb=rss_kb(), base_kb=base, n=connected)
        await asyncio.Future()


async def hold_csms(port: int, ids: list[str]):
    """The CSMS alone: an update is ``Csms.set_power`` on the station's EVSE 1."""
    from flexhub.agent.protocols.ocpp import Csms

    csms = await Csms("127.0.0.1", port, {i: PASSWORD for i in ids}).start()

    async def update(k: int, kw: float) -> str:
        return (await csms.set_power(ids[k], 1, kw)).outcome.value.lower()

    return csms, update


async def hold_driver(port: int, ids: list[str]):
    """The agent's way: the ``ocpp`` driver from the registry, one asset per station, an
    update is ``Driver.set_power`` (the driver's bookkeeping, then the CSMS)."""
    from flexhub.agent.drivers import AssetSpec, load_driver
    from flexhub.clock import SystemClock

    options = {
        "host": "127.0.0.1",
        "port": port,
        "stations": {i: {"password": PASSWORD} for i in ids},
    }
    assets = [
        AssetSpec(f"ev-{k}", "ocpp", "charger", 11.0, options={"station": i})
        for k, i in enumerate(ids)
    ]
    driver = load_driver("ocpp")(options, SystemClock())
    await driver.start(assets)

    async def update(k: int, kw: float) -> str:
        return (await driver.set_power(f"ev-{k}", kw)).outcome

    return driver.csms, update


async def serve_updates(role: str, port: int, n: int, minutes: float) -> None:
    ids = station_ids(n)
    hold = hold_driver if role == "driver" else hold_csms
    csms, send = await hold(port, ids)
    base = rss_kb()
    say(event="ready", rss_kb=base)
    started = time.monotonic()

    def booted() -> int:
        return sum(s.connected and s.booted_at is not None for s in csms.stations())

    while booted() < n:
        await asyncio.sleep(0.2)
        if time.monotonic() - started > 600:
            break
    await asyncio.sleep(2)
    connected_rss = rss_kb()
    up = booted()
    say(
        event="connected",
        rss_kb=connected_rss,
        base_kb=base,
        n=n,
        seconds=round(time.monotonic() - started, 1),
    )

    latencies: list[float] = []
    not_ok: dict[str, int] = {}
    rng = random.Random(1)
    in_flight: set[asyncio.Task] = set()

    async def update(k: int) -> None:
        t0 = time.perf_counter()
        outcome = await send(k, round(rng.uniform(1.4, 11.0), 1))
        latencies.append(time.perf_counter() - t0)
        if outcome != "accepted":
            not_ok[outcome] = not_ok.get(outcome, 0) + 1

    cpu0, t_start = cpu_s(), time.monotonic()
    period = 60.0 / n  # one station every `period` seconds: each once a minute
    total = int(minutes * n)
    lag_max = 0.0
    for k in range(total):
        due = t_start + k * period
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            lag_max = max(lag_max, -wait)
        task = asyncio.create_task(update(k % n))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    wall = time.monotonic() - t_start
    cpu = cpu_s() - cpu0
    lat = sorted(latencies)
    say(
        event="done",
        n=n,
        updates=len(latencies),
        per_minute=round(len(latencies) / wall * 60),
        p50_ms=round(statistics.median(lat) * 1000, 1),
        p99_ms=round(lat[max(0, int(len(lat) * 0.99) - 1)] * 1000, 1),
        not_accepted=not_ok,
        lag_max_s=round(lag_max, 2),
        cpu_percent=round(100 * cpu / wall, 1),
        rss_kb=rss_kb(),
        connected_rss_kb=connected_rss,
        base_kb=base,
        still_connected=sum(s.connected for s in csms.stations()),
        booted=up,
    )
    await asyncio.Future()


async def run_clients(kind: str, url: str, first: int, count: int) -> None:
    ids = station_ids(first + count)[first:]
    if kind == "bare":
        from websockets.asyncio.client import connect

        held = []
        for i in range(0, count, 100):
            held += await asyncio.gather(
                *(connect(url, compression=None, ping_interval=60) for _ in ids[i : i + 100])
            )
        say(event="up", n=len(held))
        await asyncio.Future()
    from flexhub.sim.clock import SimClock
    from flexhub.sim.ocpp_station import SimStation

    clock = SimClock(1.0)
    rng = random.Random(first)
    stations = [  # meter values once a minute each, not all in the same second
        SimStation(
            i,
            url,
            PASSWORD,
            1,
            clock=clock,
            tick_s=60,
            meter_interval_s=60,
            phase_s=rng.uniform(0, 60),
            validate=False,
        )
        for i in ids
    ]
    for i in range(0, count, 100):
        await asyncio.gather(*(s.start() for s in stations[i : i + 100]))
        await asyncio.sleep(0.1)
    while sum(s.online.is_set() for s in stations) < count:
        await asyncio.sleep(0.2)
    say(event="up", n=count)
    await asyncio.Future()


# --- the orchestration --------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE), *args], stdout=subprocess.PIPE, text=True, bufsize=1
    )


def read_event(proc: subprocess.Popen, name: str) -> dict:
    for line in proc.stdout:
        message = json.loads(line)
        if message.get("event") == name:
            return message
    raise RuntimeError(f"the process ended before {name!r}")


def measure(kind: str, n: int, minutes: float) -> dict:
    """One run: ``bare`` (idle connections), ``csms`` (the CSMS alone) or ``driver`` (the
    agent's OCPP driver over it); the server's last report."""
    port = free_port()
    if kind == "bare":
        server = spawn("--role", "bare", "--port", str(port), "--n", str(n))
        url = f"ws://127.0.0.1:{port}/"
    else:
        server = spawn(
            "--role", kind, "--port", str(port), "--n", str(n), "--minutes", str(minutes)
        )
        url = f"ws://127.0.0.1:{port}/ocpp"
    clients: list[subprocess.Popen] = []
    try:
        read_event(server, "ready")
        for k in range(math.ceil(n / PER_CLIENT)):
            first, count = k * PER_CLIENT, min(PER_CLIENT, n - k * PER_CLIENT)
            clients.append(
                spawn(
                    "--role",
                    "bare-clients" if kind == "bare" else "ocpp-clients",
                    "--url",
                    url,
                    "--first",
                    str(first),
                    "--n",
                    str(count),
                )
            )
        connected = read_event(server, "connected")
        return connected if kind == "bare" else read_event(server, "done")
    finally:
        for p in [server, *clients]:
            p.terminate()
        for p in [server, *clients]:
            p.wait(10)


def per_station_kb(done: dict) -> float:
    """The server's growth from empty to all stations booted, per booted station."""
    return (done["connected_rss_kb"] - done["base_kb"]) / max(1, done.get("booted", done["n"]))


def run_size(n: int, minutes: float) -> dict[str, dict]:
    return {kind: measure(kind, n, minutes) for kind in ("bare", "csms", "driver")}


def figures(quick: bool) -> list:
    """The OCPP figures for ``make bench``: stations held through the OcppDriver with a
    profile update a minute each, beside the CSMS alone and a bare WebSocket server."""
    n, minutes = (200, 0.1) if quick else (5000, 2.0)
    runs = run_size(n, minutes)
    bare, csms, driver = runs["bare"], runs["csms"], runs["driver"]
    bare_kb = (bare["rss_kb"] - bare["base_kb"]) / n
    return [
        Figure(
            f"OCPP profile updates per minute through the OcppDriver, {n} stations",
            driver["per_minute"],
            "/min",
            "the CSMS alone, same stations",
            csms["per_minute"],
            higher_is_better=True,
            target=f"one per station per minute ({n}), every one accepted",
        ),
        Figure(
            f"OCPP SetChargingProfile through the OcppDriver, p99, {n} stations",
            driver["p99_ms"],
            "ms",
            "the CSMS alone, p99",
            csms["p99_ms"],
        ),
        Figure(
            f"OCPP memory per station through the OcppDriver, {n} stations",
            round(per_station_kb(driver), 1),
            "kB",
            "bare websockets server, per idle connection",
            round(bare_kb, 1),
        ),
    ]


def report(n: int, runs: dict[str, dict]) -> None:
    bare = runs["bare"]
    per_bare = (bare["rss_kb"] - bare["base_kb"]) / n
    print(
        f"\n{n} connections, bare websockets: {per_bare:.1f} kB each "
        f"(server {bare['rss_kb'] / 1024:.0f} MB)"
    )
    for kind, what in (("csms", "one CSMS process"), ("driver", "the OcppDriver")):
        done = runs[kind]
        after = (done["rss_kb"] - done["base_kb"]) / n
        print(
            f"{n} OCPP 2.0.1 stations, {what}: {done['per_minute']} profile "
            f"updates/min (target {n}), answered in p50 {done['p50_ms']} ms / p99 "
            f"{done['p99_ms']} ms, not accepted {done['not_accepted'] or 0}, schedule lag "
            f"at most {done['lag_max_s']} s, CPU {done['cpu_percent']} %, "
            f"{done['still_connected']} still connected"
        )
        if done["booted"] < n:
            print(
                f"  only {done['booted']} of {n} stations had booted after 10 minutes: "
                "the machine could not run them all, the figures say little"
            )
        print(
            f"  memory: {per_station_kb(done):.1f} kB per station once booted, {after:.1f} kB "
            f"after the updates (server {done['rss_kb'] / 1024:.0f} MB); load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", default="1000,5000")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--role", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    if args.role == "bare":
        return asyncio.run(serve_bare(args.port, args.n))
    if args.role in ("csms", "driver"):
        return asyncio.run(serve_updates(args.role, args.port, args.n, args.minutes))
    if args.role.endswith("-clients"):
        kind = args.role.removesuffix("-clients")
        return asyncio.run(run_clients(kind, args.url, args.first, args.n))

    print(
        f"OCPP benchmark: {os.cpu_count()} cores, a profile per station per minute, "
        f"{args.minutes:g} min each"
    )
    for n in (int(x) for x in args.stations.split(",")):
        report(n, run_size(n, args.minutes))


if __name__ == "__main__":
    main()

"""What a flexhub client call costs beyond a bare aiohttp GET of the same URL on the same
server, measured in one run.

A loopback aiohttp server (its own process) answers ``POST /authtoken/v1/`` with a token and
every GET with a canned body: one Flex Market asset, or an Energy Coordination page of 100
users. The bare reference is ``session.get(url)`` + ``await response.json()`` with the bearer
header already built; the client call is ``FlexMarketProviderClient.get_asset`` and one page of
``CoordinationClient.iter_users`` — token cache, retry wrapper, error check and pydantic
validation included. Calls are sequential and the kinds alternate in blocks of 100, so that
all see the same machine; printed (and handed to ``make bench`` as :class:`Figure`\\ s): the
median wall time per call, and the client process's CPU time per call (median over blocks),
which a busy machine disturbs less. Figures depend on the machine; nothing here asserts on them.

Run: ``.venv/bin/python bench/clients.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Figure
from flexhub.clients import CoordinationClient, FlexMarketProviderClient

ASSET = {
    "id": "a1",
    "created": "2026-06-02T16:00:00Z",
    "modified": "2026-06-02T16:00:00Z",
    "provider": "p1",
    "ref": "battery-1",
    "name": "Battery one",
    "status": "operational",
    "asset_category": "storage",
    "asset_type": "battery",
    "voltage_level": "11.00",
    "country_code": "GB",
    "postcode": "SW1A 1AA",
    "latitude": None,
    "longitude": None,
    "import_meter_id": None,
    "export_meter_id": None,
    "active_import_capacity": None,
    "active_export_capacity": "2.500",
    "reactive_import_capacity": None,
    "reactive_export_capacity": None,
    "response_time": "00:05:00",
    "min_runtime": None,
    "max_runtime": None,
    "recovery_time": None,
}
USERS = {
    "pagination": {
        "totalRecords": 100,
        "pageSize": 100,
        "currentPage": 1,
        "totalPages": 1,
        "nextPage": None,
        "previousPage": None,
    },
    "users": [{"userId": f"user-{n}"} for n in range(100)],
}
ASSET_PATH = "/assets/v1/a1/"
USERS_PATH = "/energy-coordination/v1/users"


def serve(port: int) -> None:
    asset, users = json.dumps(ASSET), json.dumps(USERS)

    async def token(request: web.Request) -> web.Response:
        await request.read()
        if request.path == "/connect/token":
            return web.json_response(
                {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
            )
        return web.json_response({"token": "t"})

    async def get(request: web.Request) -> web.Response:
        body = asset if request.path == ASSET_PATH else users
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/authtoken/v1/", token)
    app.router.add_post("/connect/token", token)
    app.router.add_get("/{tail:.*}", get)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _timed(call, n: int, cpu: list[float]) -> list[float]:
    """Wall seconds of each of ``n`` sequential calls; this process's CPU seconds for the
    block appended to ``cpu`` (on a busy machine the wall time also holds the time spent
    waiting for a core, and a process that uses more CPU waits longer)."""
    out = []
    c0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t0)
    cpu.append((time.process_time() - c0) / n)
    return out


KINDS = ("bare asset", "client asset", "bare users", "client users")


async def measure(
    base: str, calls: int, block: int = 100
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds per call, and CPU seconds per call per block, of each kind."""
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    cpu: dict[str, list[float]] = {k: [] for k in KINDS}
    headers = {"Authorization": "Bearer t", "Accept": "application/json"}
    async with (
        aiohttp.ClientSession() as bare,
        FlexMarketProviderClient(base, client_id="c", api_key="k") as fm,
        CoordinationClient(
            base + "/energy-coordination/v1", client_id="c", client_secret="s"
        ) as ec,
    ):

        async def bare_get(path: str) -> None:
            async with bare.get(base + path, headers=headers) as response:
                await response.json()

        async def users_page() -> None:
            async for _ in ec.iter_users(page_size=100):
                pass

        calls_of = {
            "bare asset": lambda: bare_get(ASSET_PATH),
            "client asset": lambda: fm.get_asset("a1"),
            "bare users": lambda: bare_get(USERS_PATH + "?page=1&pageSize=100"),
            "client users": users_page,
        }
        for call in calls_of.values():  # warm up: connections, the tokens
            await _timed(call, 20, [])
        for _ in range(max(1, calls // block)):
            for name, call in calls_of.items():
                times[name] += await _timed(call, block, cpu[name])
    return times, cpu


def figures(quick: bool) -> list[Figure]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # the site binds just after "ready"
        times, cpu = asyncio.run(measure(f"http://127.0.0.1:{port}", 500 if quick else 5000))
    finally:
        server.terminate()
        server.wait(10)
    p50 = {name: statistics.median(values) * 1000 for name, values in times.items()}
    cpu_us = {name: statistics.median(values) * 1e6 for name, values in cpu.items()}
    return [
        Figure(
            "FlexMarketProviderClient.get_asset p50",
            p50["client asset"],
            "ms",
            "bare aiohttp GET + json() of the same URL",
            p50["bare asset"],
        ),
        Figure(
            "CoordinationClient.iter_users, one page of 100, p50",
            p50["client users"],
            "ms",
            "bare aiohttp GET + json() of the same page",
            p50["bare users"],
        ),
        Figure(
            "FlexMarketProviderClient.get_asset, client process CPU per call",
            cpu_us["client asset"],
            "µs",
            "bare aiohttp GET + json(), CPU per call",
            cpu_us["bare asset"],
        ),
        Figure(
            "CoordinationClient.iter_users page of 100, client process CPU per call",
            cpu_us["client users"],
            "µs",
            "bare aiohttp GET + json(), CPU per call",
            cpu_us["bare users"],
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 calls of each kind, not 5000")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    for f in figures(args.quick):
        print(
            f"{f.name}: {f.value:.3f} {f.unit}  |  {f.reference}: {f.reference_value:.3f} "
            f"{f.unit}  |  x{f.ratio:.2f}, +{f.value - f.reference_value:.3f} {f.unit}"
        )


if __name__ == "__main__":
    main()

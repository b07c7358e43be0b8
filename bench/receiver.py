"""A bare webhook receiver for the benchmarks: answers 200 to every POST and writes one line
per request to stdout: ``<unix time> <eventId>``. Run: python bench/receiver.py PORT

``figures(quick)`` measures the bare HTTP hop the other benchmarks stand beside, for
``bench/run.py``: a sequential POST to this receiver (in its own process) beside a raw TCP
round trip to an echo server in its own process (``receiver.py --echo PORT``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from figures import Figure, free_port


async def handle(request: web.Request) -> web.Response:
    body = await request.read()
    arrived = time.time()
    try:
        event_id = json.loads(body).get("eventId", "-")
    except ValueError:
        event_id = "-"
    sys.stdout.write(f"{arrived:.6f} {event_id}\n")
    return web.Response(status=200)


async def echo(port: int) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


def _spawn(*args: str) -> subprocess.Popen:
    """This file in a process of its own, once it says it is ready (its output drained)."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc


async def _post_p50(url: str, samples: int) -> float:
    body = json.dumps({"eventId": "bare", "payload": {"x": 1}}).encode()
    lat = []
    async with aiohttp.ClientSession() as http:
        for _ in range(samples + 20):  # the first 20 warm the connection up
            t = time.perf_counter()
            async with http.post(url, data=body) as r:
                await r.read()
            lat.append((time.perf_counter() - t) * 1000)
    return statistics.median(lat[20:])


async def _tcp_p50(port: int, samples: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = b"x" * 200
    lat = []
    for _ in range(samples + 20):
        t = time.perf_counter()
        writer.write(payload)
        await reader.readexactly(len(payload))
        lat.append((time.perf_counter() - t) * 1000)
    writer.close()
    return statistics.median(lat[20:])


def figures(quick: bool) -> list[Figure]:
    samples = 300 if quick else 2000
    http_port, tcp_port = free_port(), free_port()
    procs = [_spawn(str(http_port)), _spawn("--echo", str(tcp_port))]
    try:
        http = asyncio.run(_post_p50(f"http://127.0.0.1:{http_port}/hook", samples))
        tcp = asyncio.run(_tcp_p50(tcp_port, samples))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    return [
        Figure(
            "sequential POST to the bare receiver, p50 (the bare HTTP hop)",
            http,
            "ms",
            "raw loopback TCP round trip p50",
            tcp,
        )
    ]


def main() -> None:
    if sys.argv[1] == "--echo":
        return asyncio.run(echo(int(sys.argv[2])))
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()

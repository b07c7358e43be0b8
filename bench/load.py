"""An HTTP load generator for the API benchmark (``bench/api.py``), on aiohttp.

- :func:`open_loop`: a fixed offered rate. Request *i* is due at ``start + i / rate`` and is
  sent then whether or not earlier ones have been answered; its latency runs from the moment
  it was due, so that a server falling behind shows as latency (no coordinated omission).
- :func:`closed_loop`: ``in_flight`` requests at all times for a while: the most the server
  answers per second.

Both run in the calling process; :func:`open_loop_in_processes` and
:func:`closed_loop_in_processes` split the work over several processes (the generator's own
CPU must not be what limits a figure on a 2-core machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass

import aiohttp


@dataclass
class Run:
    """What a load run saw: latencies of the 2xx answers (ms), how many answers were not 2xx
    or never came, and the rate the answers came at."""

    latencies: list[float]
    failures: int
    seconds: float

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    @staticmethod
    def merge(runs: list[Run]) -> Run:
        return Run(
            [x for r in runs for x in r.latencies],
            sum(r.failures for r in runs),
            max((r.seconds for r in runs), default=0.0),
        )


def _connector(limit: int) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=limit, force_close=False, keepalive_timeout=30)


async def _fetch(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> bool:
    async with http.get(url, headers=headers) as r:
        await r.read()
        return 200 <= r.status < 300


async def open_loop(
    url: str,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    timeout: float = 10.0,
    connections: int = 256,
) -> Run:
    """``rate`` requests per second for ``seconds``; latency from each request's due time."""
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    failures = 0
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    connector = _connector(connections)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as http:
        clock = time.perf_counter  # uvloop's loop.time() counts whole milliseconds
        start = clock() + 0.05
        last = [start]

        async def one(due: float) -> None:
            nonlocal failures
            try:
                ok = await _fetch(http, url, headers)
            except (TimeoutError, aiohttp.ClientError, OSError):
                ok = False
            now = clock()
            last[0] = max(last[0], now)
            if ok:
                latencies.append((now - due) * 1000)
            else:
                failures += 1

        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
    return Run(latencies, failures, last[0] - start)


async def closed_loop(
    url: str, headers: dict[str, str], in_flight: int, seconds: float, timeout: float = 10.0
) -> Run:
    """``in_flight`` requests outstanding at all times for ``seconds``."""
    latencies: list[float] = []
    failures = 0
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    connector = _connector(in_flight)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as http:
        start = time.perf_counter()
        end = start + seconds

        async def lane() -> None:
            nonlocal failures
            while (t := time.perf_counter()) < end:
                try:
                    ok = await _fetch(http, url, headers)
                except (TimeoutError, aiohttp.ClientError, OSError):
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t) * 1000)
                else:
                    failures += 1

        await asyncio.gather(*(lane() for _ in range(in_flight)))
        elapsed = time.perf_counter() - start
    return Run(latencies, failures, elapsed)


def _run(coro) -> Run:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(coro)
    return uvloop.run(coro)


def _open_child(args: tuple) -> Run:
    return _run(open_loop(*args))


def _closed_child(args: tuple) -> Run:
    return _run(closed_loop(*args))


def _in_processes(target, args: list[tuple]) -> Run:
    if len(args) == 1:
        return target(args[0])
    with multiprocessing.get_context("spawn").Pool(len(args)) as pool:
        return Run.merge(pool.map(target, args))


def open_loop_in_processes(
    url: str, headers: dict[str, str], rate: float, seconds: float, processes: int = 1
) -> Run:
    """:func:`open_loop` with the rate split over ``processes`` generator processes."""
    share = rate / processes
    return _in_processes(_open_child, [(url, headers, share, seconds)] * processes)


def closed_loop_in_processes(
    url: str, headers: dict[str, str], in_flight: int, seconds: float, processes: int = 1
) -> Run:
    """:func:`closed_loop` with ``in_flight`` requests in each of ``processes`` processes."""
    return _in_processes(_closed_child, [(url, headers, in_flight, seconds)] * processes)


async def wait_healthy(base: str, timeout: float = 60.0) -> None:
    """Until ``base``/healthz answers 200."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{base} did not answer /healthz in {timeout:g} s")
            await asyncio.sleep(0.1)

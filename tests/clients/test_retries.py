"""Retries through real HTTP: a small loopback server answers 429 or 503 first, a port with
nobody listening refuses the connection, and the platform's own token rate limit answers 429
with Retry-After. The waits are recorded (not spent) by the retry policy's ``sleep``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web

from flexhub.clients import (
    ApiError,
    CoordinationClient,
    FlexMarketProviderClient,
    TransportError,
    UnexpectedAnswer,
    collect,
)
from flexhub.clients.retry import RetryPolicy
from flexhub.store.database import Database
from support.clients import RecordedWaits, ec_url, new_partner
from support.databases import platform_settings
from support.platform import PlatformThread, free_port


class Scripted:
    """A loopback Flex Market look-alike: ``POST /authtoken/v1/`` hands out a token; other
    requests get the scripted answers in order, then 200 ``{"count": 0, ...}``."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], object]] = []
        self.seen: list[tuple[str, str]] = []
        self.delay = 0.0  # seconds before answering anything but a token request
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _token(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, request.path))
        return web.json_response({"token": "opaque-token"})

    async def _any(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, request.path))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script:
            status, headers, body = self.script.pop(0)
            return web.json_response(body, status=status, headers=headers)
        return web.json_response({"count": 0, "next": None, "previous": None, "results": []})

    async def start(self) -> Scripted:
        app = web.Application()
        app.router.add_post("/authtoken/v1/", self._token)
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    server = await Scripted().start()
    yield server
    await server.stop()


def fsp(url: str, retry: RetryPolicy) -> FlexMarketProviderClient:
    return FlexMarketProviderClient(url, client_id="c", api_key="k", retry=retry)


async def test_429_waits_what_retry_after_says(scripted):
    waits = RecordedWaits()
    scripted.script = [
        (429, {"Retry-After": "7"}, {"detail": "slow down"}),
        (429, {"Retry-After": "2"}, {"detail": "slow down"}),
    ]
    async with fsp(scripted.url, waits.policy()) as client:
        assert [a async for a in client.iter_assets()] == []
    assert waits.waits == [7.0, 2.0]
    assert scripted.seen.count(("GET", "/assets/v1/")) == 3


async def test_a_429_on_a_post_is_retried_too(scripted):
    waits = RecordedWaits()
    scripted.script = [
        (429, {"Retry-After": "1"}, {"detail": "slow down"}),
        (409, {}, {"detail": "already answered"}),
    ]
    async with fsp(scripted.url, waits.policy()) as client:
        with pytest.raises(ApiError) as err:
            await client.accept_dispatch("i-1")
    assert (err.value.status, err.value.detail) == (409, "already answered")
    assert waits.waits == [1.0]
    assert scripted.seen.count(("POST", "/dispatches/v1/i-1/accept/")) == 2


async def test_5xx_backs_off_exponentially_for_reads_only(scripted):
    waits = RecordedWaits()
    scripted.script = [(503, {}, {"detail": "down"})] * 3
    async with fsp(scripted.url, waits.policy(attempts=4)) as client:
        assert [a async for a in client.iter_assets()] == []
    assert len(waits.waits) == 3 and all(0 <= w <= 60 for w in waits.waits)
    # random exponential: each wait at most 0.5 * 2**n
    assert all(w <= 0.5 * 2 ** (n + 1) for n, w in enumerate(waits.waits))

    waits.waits.clear()
    scripted.script = [(503, {}, {"detail": "down"})]
    async with fsp(scripted.url, waits.policy()) as client:
        with pytest.raises(ApiError) as err:  # a POST is not repeated after a 5xx
            await client.reject_dispatch("i-1", "no")
    assert err.value.status == 503 and err.value.body == {"detail": "down"}
    assert waits.waits == []


async def test_an_answer_of_the_wrong_shape(scripted):
    scripted.script = [(200, {}, {"id": "a"})]
    async with fsp(scripted.url, RecordedWaits().policy()) as client:
        with pytest.raises(UnexpectedAnswer) as err:
            await client.get_asset("a")
    assert err.value.model == "AssetOut"


async def test_retries_give_up_with_the_last_answer(scripted):
    waits = RecordedWaits()
    scripted.script = [(429, {"Retry-After": "1"}, {"detail": f"no {n}"}) for n in range(5)]
    async with fsp(scripted.url, waits.policy(attempts=3)) as client:
        with pytest.raises(ApiError) as err:
            await client.get_asset("a")
    assert (err.value.status, err.value.detail, err.value.retry_after) == (429, "no 2", 1.0)
    assert waits.waits == [1.0, 1.0]


async def test_a_refused_connection_is_retried_then_a_transport_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = RecordedWaits()
    async with fsp(f"http://127.0.0.1:{port}", waits.policy(attempts=3)) as client:
        with pytest.raises(TransportError):
            await client.reject_dispatch("i-1", "no")  # even a POST: it never left
    assert len(waits.waits) == 2


async def test_the_platforms_token_rate_limit(tmp_path):
    settings = platform_settings(
        f"sqlite+aiosqlite:///{tmp_path}/fh.db",
        tmp_path / "data",
        rate_limit_token_per_client="2/minute",
    )
    platform = PlatformThread(settings).start()
    try:
        db = Database(settings.database_url)
        creds = await new_partner(db, "provider")
        await db.dispose()
        waits = RecordedWaits()
        clients = [
            CoordinationClient(
                ec_url(platform),
                client_id=creds.client_id,
                client_secret=creds.secret,
                retry=waits.policy(attempts=2),
            )
            for _ in range(3)
        ]
        for client in clients[:2]:
            await client.list_webhooks()  # two tokens: the limit
        with pytest.raises(ApiError) as err:
            await clients[2].list_webhooks()
        for client in clients:
            await client.close()
    finally:
        platform.stop()
    assert err.value.status == 429 and err.value.body["error"] == "temporarily_unavailable"
    assert err.value.retry_after is not None and 1 <= err.value.retry_after <= 60
    assert waits.waits == [err.value.retry_after]  # waited what the platform said, once


async def test_a_shared_session_stays_open(scripted):
    async with aiohttp.ClientSession() as session:
        async with FlexMarketProviderClient(
            scripted.url, client_id="c", api_key="k", session=session
        ) as client:
            assert [a async for a in client.iter_assets()] == []
        assert not session.closed
        async with session.get(scripted.url + "/assets/v1/") as response:
            assert response.status == 200
    async with FlexMarketProviderClient(scripted.url, client_id="c", api_key="k") as own:
        await collect(own.iter_assets())
        inner = own.api.session
    assert inner.closed  # its own session is closed with it


async def test_retry_after_as_a_date_and_its_cap(scripted):
    waits = RecordedWaits()
    in_30s = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    scripted.script = [
        (503, {"Retry-After": in_30s}, {"detail": "maintenance"}),
        (429, {"Retry-After": "86400"}, {"detail": "come back tomorrow"}),
    ]
    async with fsp(scripted.url, waits.policy()) as client:
        assert [a async for a in client.iter_assets()] == []
    date_wait, capped = waits.waits
    assert 20 < date_wait <= 30  # an HTTP date: the seconds until then
    assert capped == 60.0  # at most max_wait


async def test_a_timeout_is_retried_only_when_safe(scripted):
    scripted.delay = 2.0
    waits = RecordedWaits()
    async with FlexMarketProviderClient(
        scripted.url, client_id="c", api_key="k", timeout=0.3, retry=waits.policy(attempts=2)
    ) as client:
        with pytest.raises(TransportError):
            await client.get_asset("a")
        assert len(waits.waits) == 1 and scripted.seen.count(("GET", "/assets/v1/a/")) == 2
        with pytest.raises(TransportError):  # the server may have acted on it: not repeated
            await client.reject_dispatch("i-1", "no")
    assert (
        len(waits.waits) == 1 and scripted.seen.count(("POST", "/dispatches/v1/i-1/reject/")) == 1
    )

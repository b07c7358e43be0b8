"""Finding 5 (issue 11): rate limits per client id and per source address on both token
endpoints and per partner on the APIs, answered 429 with ``Retry-After`` in each API's format;
state in memory for one process, in Redis when several processes share the count. The
X-Forwarded-For header is believed only from configured proxies."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest

from support.platform import EC
from support.strict import partner_on, start_strict

REDIS = "redis://127.0.0.1:6379/0"


def _redis_reachable() -> bool:
    async def ping() -> None:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 6379), 2)
        writer.close()

    try:
        asyncio.run(ping())
        return True
    except (OSError, TimeoutError):
        return False


@pytest.fixture(params=["memory://", REDIS])
def storage(request) -> str:
    if request.param == REDIS and not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379")
        pytest.skip("Redis is not reachable")
    return request.param


@pytest.fixture
def platforms(tmp_path_factory):
    started = []

    def start(**overrides):
        overrides.setdefault("rate_limit_prefix", f"flexhub-test-{uuid.uuid4().hex}")
        platform = start_strict(tmp_path_factory.mktemp("rl"), **overrides)
        started.append(platform)
        return platform

    yield start
    for platform in started:
        platform.stop()


def _form(client_id: str, secret: str = "wrong") -> dict:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def test_token_requests_per_client_id(platforms, storage):
    platform = platforms(rate_limit_storage=storage, rate_limit_token_per_client="3/minute")
    target = "a" * 32
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        for _ in range(3):
            assert (await http.post("/connect/token", data=_form(target))).status_code == 401
        r = await http.post("/connect/token", data=_form(target))
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert r.json()["error"] and "Retry after" in r.json()["error_description"]
        # the same client id on the Flex Market endpoint shares the count: DRF format
        r = await http.post("/authtoken/v1/", json={"client_id": target, "api_key": "x"})
        assert r.status_code == 429 and "detail" in r.json() and r.headers["Retry-After"]
        # another client id is not held back
        assert (await http.post("/connect/token", data=_form("b" * 32))).status_code == 401


async def test_token_requests_per_address_ignore_forwarded_headers(platforms, storage):
    platform = platforms(rate_limit_storage=storage, rate_limit_token_per_address="4/minute")
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        for i in range(4):
            headers = {"X-Forwarded-For": f"198.51.100.{i}"}  # not believed: no trusted proxy
            r = await http.post("/connect/token", data=_form(f"id-{i}"), headers=headers)
            assert r.status_code == 401
        r = await http.post("/connect/token", data=_form("id-new"))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


async def test_a_trusted_proxy_names_the_address(platforms):
    platform = platforms(trusted_proxies="127.0.0.1", rate_limit_token_per_address="2/minute")
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        one = {"X-Forwarded-For": "203.0.113.1"}
        for _ in range(2):
            r = await http.post("/connect/token", data=_form("x"), headers=one)
            assert r.status_code == 401
        r = await http.post("/connect/token", data=_form("x"), headers=one)
        assert r.status_code == 429
        other = {"X-Forwarded-For": "203.0.113.2"}
        assert (
            await http.post("/connect/token", data=_form("x"), headers=other)
        ).status_code == 401


async def test_api_calls_per_partner_in_each_format(platforms, storage):
    platform = platforms(rate_limit_storage=storage, rate_limit_api_per_partner="5/minute")
    ec = await partner_on(platform, api=EC)
    fsp = await partner_on(platform, api="")
    try:
        for _ in range(5):
            assert (await ec.client.get("/users")).status_code == 200
            assert (await fsp.client.get("/assets/v1/")).status_code == 200
        r = await ec.client.get("/users")
        assert r.status_code == 429 and isinstance(r.json(), str) and r.headers["Retry-After"]
        r = await fsp.client.get("/assets/v1/")
        assert r.status_code == 429 and "detail" in r.json() and r.headers["Retry-After"]
        r = await ec.client.post("/webhooks", json={"webhookUrl": "https://e.example/"})
        assert r.status_code == 429
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 429
    finally:
        await ec.client.aclose()
        await fsp.client.aclose()


async def test_redis_shares_the_count_between_processes(platforms, storage):
    prefix = f"flexhub-test-{uuid.uuid4().hex}"
    settings = dict(
        rate_limit_storage=storage, rate_limit_token_per_client="4/minute", rate_limit_prefix=prefix
    )
    first, second = platforms(**settings), platforms(**settings)
    statuses = []
    async with httpx.AsyncClient() as http:
        for i in range(8):
            target = (first, second)[i % 2]
            r = await http.post(target.base_url + "/connect/token", data=_form("shared-id"))
            statuses.append(r.status_code)
    if storage == REDIS:  # one count: the fifth request is refused, on either platform
        assert statuses == [401] * 4 + [429] * 4, statuses
    else:  # each process counts its own
        assert statuses == [401] * 8, statuses

"""A platform whose database connections are all in use answers 503 with ``Retry-After`` in
each API's own error style (not a 500), and serves again once one is free."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from flexhub.store.database import Database
from support.databases import end_backends_waiting_on_lock, make_backend, platform_settings
from support.platform import PlatformThread, new_partner


@pytest.fixture
def busy_platform(tmp_path):
    backend_iter = make_backend("postgres", tmp_path)
    backend = next(backend_iter)
    settings = platform_settings(
        backend.url, tmp_path / "data", db_pool_size=1, db_pool_timeout_seconds=0.3
    )
    running = PlatformThread(settings).start()
    try:
        yield running
    finally:
        running.stop()
        backend_iter.close()


def _on_platform_loop(platform: PlatformThread, coro):
    """Run ``coro`` on the platform's own event loop (its pool belongs to that loop)."""
    return asyncio.run_coroutine_threadsafe(coro, platform.loop).result(timeout=30)


async def test_no_free_connection_is_a_503_with_retry_after(busy_platform):
    platform = busy_platform

    db = Database(platform.settings.database_url)  # the test's own connections
    try:
        provider = await new_partner(platform.base_url, db, api="")
    finally:
        await db.dispose()
    await provider.client.aclose()
    held: list = []

    plain: list = []

    async def hold_all():  # pool_size 1 and as many again on demand: two connections
        for _ in range(2):
            conn = await platform.ctx.db.engine.connect()
            await conn.exec_driver_sql("SELECT 1")
            held.append(conn)
        # and the one plain connection GET /events reads with (Database.driver_connection)
        plain.append(platform.ctx.db.driver_connection())
        await plain[0].__aenter__()

    async def release_all():
        for conn in held:
            await conn.close()
        for context in plain:
            await context.__aexit__(None, None, None)

    headers = {"Authorization": f"Bearer {provider.token}"}
    async with httpx.AsyncClient(base_url=platform.base_url, headers=headers) as http:
        assert (await http.get("/energy-coordination/v1/events")).status_code == 200
        _on_platform_loop(platform, hold_all())
        try:
            ec = await http.get("/energy-coordination/v1/events")
            fm = await http.get("/dispatches/v1/")
        finally:
            _on_platform_loop(platform, release_all())
        assert ec.status_code == 503 and ec.headers["retry-after"] == "1"
        assert ec.headers["content-type"] == "application/problem+json"  # the route's style
        assert ec.json()["status"] == 503
        assert ec.json()["detail"] == "The service is busy; try again shortly"
        assert fm.status_code == 503 and fm.headers["retry-after"] == "1"
        assert fm.json() == {"detail": "The service is busy; try again shortly"}  # DRF style
        assert (await http.get("/energy-coordination/v1/events")).status_code == 200


async def test_a_connection_ended_under_a_request_is_a_503_then_served_again(busy_platform):
    """The soak's ``pg_terminate_backend`` fault: a request whose database connection the
    server ends is answered 503 with ``Retry-After`` (nothing was committed: the client may
    repeat it), not a 500; the next request gets a new connection."""
    import asyncpg
    from sqlalchemy.engine import make_url

    platform = busy_platform
    db = Database(platform.settings.database_url)
    try:
        provider = await new_partner(platform.base_url, db, api="")
    finally:
        await db.dispose()
    await provider.client.aclose()
    url = make_url(platform.settings.database_url)
    admin = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    headers = {"Authorization": f"Bearer {provider.token}"}
    try:
        async with httpx.AsyncClient(
            base_url=platform.base_url, headers=headers, timeout=30
        ) as http:
            assert (await http.get("/energy-coordination/v1/events")).status_code == 200
            # the request's query waits on a lock this test holds; its backend is then ended
            locker = admin.transaction()
            await locker.start()
            await admin.execute("LOCK TABLE ec_events IN ACCESS EXCLUSIVE MODE")
            request = asyncio.create_task(http.get("/energy-coordination/v1/events"))
            await end_backends_waiting_on_lock(admin, url.database)
            await locker.rollback()
            answer = await request
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "1"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["detail"] == "The database connection was lost; try again shortly"
            assert (await http.get("/energy-coordination/v1/events")).status_code == 200
    finally:
        await admin.close()

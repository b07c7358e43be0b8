"""PostgreSQL connections in the pool: one the server ended while it sat idle longer than
``ping_idle_seconds`` is found dead at checkout and replaced (the next statement works); one
in steady use is not pinged, so ending it makes its next statement fail as a disconnect."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from flexhub.store.database import Database
from support.databases import make_backend


@pytest.fixture
def pg(tmp_path_factory):
    yield from make_backend("postgres", tmp_path_factory.mktemp("pool"))


async def _end_pooled_backends(url: str) -> int:
    """``pg_terminate_backend`` for every connection to the database but this one."""
    import asyncpg

    u = make_url(url)
    admin = await asyncpg.connect(u.set(drivername="postgresql").render_as_string(False))
    try:
        pids = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            u.database,
        )
        for row in pids:
            await admin.fetchval("SELECT pg_terminate_backend($1)", row["pid"])
        return len(pids)
    finally:
        await admin.close()


async def _backend_pid(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(text("SELECT pg_backend_pid()"))


async def test_a_connection_ended_while_idle_is_replaced(pg):
    db = Database(pg.url, ping_idle_seconds=0.2)
    try:
        first = await _backend_pid(db)
        assert await _end_pooled_backends(pg.url) == 1
        await asyncio.sleep(0.4)  # idle past the limit: pinged at checkout, found dead
        second = await _backend_pid(db)
        assert second != first
    finally:
        await db.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(pg):
    db = Database(pg.url, ping_idle_seconds=3600)
    try:
        await _backend_pid(db)
        assert await _end_pooled_backends(pg.url) == 1
        with pytest.raises(sa_exc.DBAPIError) as raised:
            await _backend_pid(db)
        assert raised.value.connection_invalidated
        await _backend_pid(db)  # the pool has replaced it
    finally:
        await db.dispose()

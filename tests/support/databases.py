"""Databases for the tests: a fresh, empty one of each kind per request, and platform settings
pointing at one. PostgreSQL is ``FLEXHUB_TEST_POSTGRES_URL`` (default the local server); under
CI an unreachable PostgreSQL is an error, not a skip."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url

from flexhub.config import RetryPolicy, Settings
from support.platform import free_port

POSTGRES_URL = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
FAST_RETRY = RetryPolicy(max_attempts=4, base_seconds=0.2, factor=2.0, max_seconds=2.0, jitter=0.1)


@dataclass(frozen=True)
class Backend:
    name: str
    url: str


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_reachable() -> bool:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
        return True
    except Exception:
        return False


def make_backend(name: str, tmp_dir) -> Iterator[Backend]:
    """A fresh, empty database of the named kind; dropped afterwards."""
    if name == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_dir}/flexhub.db")
        return
    if not _pg_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL is not reachable")
    dbname = f"flexhub_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{dbname}"'))
    try:
        yield Backend(
            "postgres",
            make_url(POSTGRES_URL).set(database=dbname).render_as_string(hide_password=False),
        )
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


def platform_settings(url: str, data_dir, **overrides) -> Settings:
    """Settings for a platform on ``url`` on a free loopback port, with fast retries."""
    base = dict(
        database_url=url,
        data_dir=data_dir,
        host="127.0.0.1",
        port=free_port(),
        webhook_allow_private=True,
        worker_poll_seconds=0.5,
        delivery_timeout_seconds=2.0,
        ec_retry=FAST_RETRY,
        fm_retry=FAST_RETRY,
        # the suite makes hundreds of partners and tokens from one address and hammers the APIs
        # (schemathesis): generous limits; tests/security checks the real ones
        rate_limit_token_per_address="100000/minute",
        rate_limit_token_per_client="1000/minute",
        rate_limit_api_per_partner="1000000/minute",
        partner_cache_seconds=0.5,
        price_curve_schedule="",  # tests run price curves for their own dates, on demand
        settle_heap=False,  # the suite starts hundreds of platforms in one process (heap.py)
    )
    base.update(overrides)
    return Settings(**base)


async def backends_waiting_on_lock(admin, dbname: str) -> list[int]:
    """The PostgreSQL backends of ``dbname`` waiting on a lock (other than ``admin``'s own),
    once there is one (within 10 s). ``admin`` may be in a transaction (holding the lock):
    its view of ``pg_stat_activity`` is refreshed on each look, not kept for the transaction."""
    for _ in range(200):
        await admin.execute("SELECT pg_stat_clear_snapshot()")
        pids = [
            r["pid"]
            for r in await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = "
                "'Lock' AND pid <> pg_backend_pid()",
                dbname,
            )
        ]
        if pids:
            return pids
        await asyncio.sleep(0.05)
    raise AssertionError("nothing got to wait on the lock")


async def end_backends_waiting_on_lock(admin, dbname: str) -> None:
    """End (``pg_terminate_backend``) the backends :func:`backends_waiting_on_lock` finds."""
    for pid in await backends_waiting_on_lock(admin, dbname):
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)

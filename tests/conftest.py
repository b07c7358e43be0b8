"""Shared fixtures. Storage and API tests run on SQLite always and on PostgreSQL when it is
reachable (``FLEXHUB_TEST_POSTGRES_URL``, default the local server); under CI an unreachable
PostgreSQL is an error, not a skip. Each PostgreSQL session gets its own fresh database."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.engine import make_url

from flexhub.config import RetryPolicy, Settings
from flexhub.platform.auth import add_partner
from flexhub.store.database import Database
from support import Partner, PlatformThread, Receiver, free_port

POSTGRES_URL = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
EC = "/energy-coordination/v1"
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


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request, tmp_path_factory) -> Iterator[Backend]:
    yield from make_backend(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))


def platform_settings(url: str, data_dir, **overrides) -> Settings:
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
    )
    base.update(overrides)
    return Settings(**base)


@pytest.fixture(scope="session")
def platform(backend: Backend, tmp_path_factory) -> Iterator[PlatformThread]:
    """The platform served on a loopback port, with its delivery worker, for this backend."""
    settings = platform_settings(backend.url, tmp_path_factory.mktemp("data"))
    running = PlatformThread(settings).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def test_db(platform: PlatformThread) -> AsyncIterator[Database]:
    """A test-side connection to the platform's database (for setup and inspection)."""
    db = Database(platform.settings.database_url)
    yield db
    await db.dispose()


async def fetch_token(base_url: str, client_id: str, secret: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        r.raise_for_status()
        return r.json()["access_token"]


@pytest.fixture
async def make_partner(platform: PlatformThread, test_db: Database):
    """``await make_partner(role="provider", api=EC)`` → a new partner with a live token."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str = "provider", api: str = EC, name: str | None = None) -> Partner:
        name = name or f"{role}-{uuid.uuid4().hex[:8]}"
        async with test_db.session() as session:
            creds = await add_partner(session, name, role)
            await session.commit()
        token = await fetch_token(platform.base_url, creds.client_id, creds.client_secret)
        client = httpx.AsyncClient(
            base_url=platform.base_url + api,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        clients.append(client)
        return Partner(
            creds.partner_id, name, role, creds.client_id, creds.client_secret, token, client
        )

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def ec(make_partner) -> Partner:
    """A fresh provider partner with a client rooted at /energy-coordination/v1."""
    return await make_partner()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()

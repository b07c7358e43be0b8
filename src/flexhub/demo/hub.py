"""The platform of the demo: its settings (SQLite in the run's directory, or a fresh database on
the PostgreSQL server that ``FLEXHUB_DATABASE_URL`` names), served by uvicorn on a loopback port
in this process with its delivery worker, and the partners created by the platform's own
bootstrap function (:func:`flexhub.platform.auth.add_partner`, what ``flexhub partner add``
calls). Everything else the demo does goes over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from flexhub.config import Settings, load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Credentials:
    name: str
    partner_id: str
    client_id: str
    client_secret: str


async def _fresh_postgres(url: str) -> tuple[str, str]:
    """A new database on the server of ``url`` (the demo's day must run on an empty one):
    (its SQLAlchemy URL, its name)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database or 'flexhub'}_demo_{secrets.token_hex(4)}"
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres(url: str, name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class Hub:
    """``async with Hub(workdir) as hub``: the platform serving at ``hub.base_url``."""

    def __init__(self, workdir: Path, database_url: str | None = None) -> None:
        self.workdir = workdir
        given = database_url or os.environ.get("FLEXHUB_DATABASE_URL", "")
        self.postgres = given if given.startswith("postgresql") else None
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.settings: Settings | None = None
        self.app = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self._db_name: str | None = None

    async def __aenter__(self) -> Hub:
        from flexhub.platform.app import create_app

        if self.postgres:
            url, self._db_name = await _fresh_postgres(self.postgres)
        else:
            url = f"sqlite+aiosqlite:///{self.workdir / 'flexhub.db'}"
        self.settings = load_settings(
            database_url=url,
            data_dir=self.workdir / "platform-data",
            host="127.0.0.1",
            port=self.port,
            public_url=self.base_url,
            webhook_allow_private=True,  # the agent listens on loopback
            rate_limit_api_per_partner="100000/minute",  # a few hundred homes registered at once
            price_curve_schedule="",  # the grid operator asks for tomorrow's run itself
            # the homes' eligibility reaches the provider as a UserEligibility event within
            # the day, not at the next 10-minute boundary
            eligibility_cycle_seconds=15.0,
            run_worker=True,
        )
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,
            # the clients keep connections open between the day's calls; uvicorn's 5 s
            # default closed them under the clients, which then waited out their timeout
            timeout_keep_alive=300,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(), name="platform")
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("the platform did not start")
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, timeout=15)
        if self.postgres and self._db_name:
            with contextlib.suppress(Exception):
                await _drop_postgres(self.postgres, self._db_name)

    @property
    def database(self) -> str:
        assert self.settings is not None
        return "PostgreSQL" if self.settings.database_url.startswith("postgresql") else "SQLite"

    async def add_partner(self, name: str, role: str) -> Credentials:
        from flexhub.platform.auth import add_partner

        assert self.app is not None
        async with self.app.state.ctx.db.session() as session:
            made = await add_partner(session, name, role)
            await session.commit()
        return Credentials(name, made.partner_id, made.client_id, made.client_secret)

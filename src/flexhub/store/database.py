"""Engine and session factory, schema upgrade on start, and the outbox wake-up signal.

An SQLite database file is created readable by its owner only (0600; SQLite gives its WAL and
shared-memory files the same mode), and an existing one readable by others is narrowed to that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

log = logging.getLogger("flexhub.store")
MIGRATIONS = Path(__file__).parent / "migrations"
OUTBOX_CHANNEL = "flexhub_outbox"
_OUTBOX_FLAG = "flexhub_outbox_written"


def mark_outbox_written(session: AsyncSession | Session) -> None:
    """Called by the outbox when it adds rows: wakes workers once the transaction commits."""
    session.info[_OUTBOX_FLAG] = True


class Database:
    """One engine per process; ``outbox_signal`` wakes the in-process worker after commits."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        kwargs: dict = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            private_sqlite_file(url)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.outbox_signal = asyncio.Event()
        event.listen(self.sessions.class_.sync_session_class, "after_commit", self._after_commit)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def asyncpg_dsn(self) -> str:
        """The URL in the form asyncpg.connect takes (for LISTEN)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_OUTBOX_FLAG, False):
            self.outbox_signal.set()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (serialised across processes on PostgreSQL)."""
        async with self.engine.connect() as conn:
            if self.is_postgres:
                await conn.execute(text("SELECT pg_advisory_lock(724301)"))
            try:
                await conn.run_sync(_run_upgrade)
                await conn.commit()
            finally:
                if self.is_postgres:
                    await conn.execute(text("SELECT pg_advisory_unlock(724301)"))
                    await conn.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()


def private_sqlite_file(url: str) -> None:
    """Create the SQLite file of ``url`` with mode 0600, or narrow an existing one to it."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        for name in (path, path + "-wal", path + "-shm"):
            try:
                mode = stat.S_IMODE(os.stat(name).st_mode)
            except FileNotFoundError:
                continue
            if mode & 0o077:
                os.chmod(name, 0o600)
                log.warning("%s was open to others (%o); narrowed to 0600", name, mode)
    except FileNotFoundError:
        return  # no such directory: SQLite reports it when connecting
    else:
        os.close(fd)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _run_upgrade(sync_conn) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "heads")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()

"""Engine and session factory, schema upgrade on start, and the outbox wake-up signal.

An SQLite database file is created readable by its owner only (0600; SQLite gives its WAL and
shared-memory files the same mode), and an existing one readable by others is narrowed to that.

A PostgreSQL connection that sat in the pool longer than ``ping_idle_seconds`` is pinged when
it is taken, and replaced if the server ended it meanwhile (a restart, an idle timeout). One in
steady use is not: SQLAlchemy's ``pool_pre_ping`` pings every checkout with three round trips
(BEGIN, a statement, ROLLBACK), about a millisecond of CPU on every request and delivery
batch. A connection ended between two uses a moment apart fails its statement instead, which
is answered 503 with ``Retry-After`` (nothing committed) and makes the pool replace all the
connections it opened before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
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


_HANDED = "flexhub_outbox_handed"
DATABASE_INFO = "flexhub_database"
_IDLE_SINCE = "flexhub_idle_since"
PING_IDLE_SECONDS = 10.0


def mark_outbox_written(session: AsyncSession | Session, handed: list | None = None) -> None:
    """Called by the outbox when it adds rows: wakes workers once the transaction commits, and
    gives ``handed`` (rows already leased to the in-process worker) to :attr:`Database.handoff`
    then; a rollback drops them (they were never written). Rows not handed count in
    :attr:`Database.outbox_writes`, which tells the in-process workers to claim."""
    if handed:
        session.info.setdefault(_HANDED, []).extend(handed)
    else:  # rows any worker may claim
        session.info[_OUTBOX_FLAG] = True


class Handoff:
    """An in-process worker's offer to take just-committed outbox rows without claiming them:
    the outbox leases rows of ``channels`` to ``owner`` in the writing transaction and, once it
    commits, calls ``accept`` with them. The lease keeps the outbox the durable record: rows
    never handed (a crash between commit and hand-off) are claimed again when it runs out."""

    def __init__(self, owner: str, channels: set[str], lease_seconds: float, accept) -> None:
        self.owner = owner
        self.channels = channels
        self.lease_seconds = lease_seconds
        self.accept = accept


class Database:
    """One engine per process; ``outbox_signal`` wakes the in-process worker after commits."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        ping_idle_seconds: float = PING_IDLE_SECONDS,
    ) -> None:
        self.url = url
        self.pool_size, self.pool_timeout = pool_size, pool_timeout
        self._plain_pool: asyncpg.Pool | None = None
        self._plain_lock = asyncio.Lock()
        kwargs: dict = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            private_sqlite_file(url)
        else:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=pool_timeout,
            )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            _ping_when_idle(self.engine, ping_idle_seconds)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={DATABASE_INFO: self}
        )
        self.outbox_signal = asyncio.Event()
        self.outbox_writes = 0  # commits of outbox rows not handed over (workers claim them)
        self.handoff: Handoff | None = None
        sync_class = self.sessions.class_.sync_session_class
        event.listen(sync_class, "after_commit", self._after_commit)
        event.listen(sync_class, "after_rollback", self._after_rollback)

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
        # the listener is on the session class: every Database sees every commit, and takes
        # only its own sessions' rows and wake-ups
        if session.info.get(DATABASE_INFO) is not self:
            return
        handed = session.info.pop(_HANDED, None)
        if handed:
            if self.handoff is not None:
                self.handoff.accept(handed)
            else:  # its worker stopped: claimable by the others once the lease runs out
                self.outbox_writes += 1
            self.outbox_signal.set()
        if session.info.pop(_OUTBOX_FLAG, False):
            self.outbox_writes += 1
            self.outbox_signal.set()

    def _after_rollback(self, session: Session) -> None:
        if session.info.get(DATABASE_INFO) is self:
            session.info.pop(_HANDED, None)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator:
        """The driver's own connection (asyncpg's, aiosqlite's) for a single statement outside
        a transaction on the hottest reads (``GET /events``), without SQLAlchemy's session.
        On PostgreSQL from a pool of plain asyncpg connections: no pre-ping round trip when
        taken and no reset when given back (nothing outlives the statement), a connection
        that died is replaced by that pool, and none free within the pool timeout is
        SQLAlchemy's ``TimeoutError`` (the busy 503). On SQLite the engine's connection,
        invalidated when the statement fails. The driver's errors come out as SQLAlchemy's
        ``DBAPIError`` (``connection_invalidated`` when the connection is gone), as they would
        through a session, for the error handlers."""
        if self.is_postgres:
            pool = self._plain_pool or await self._open_plain_pool()
            try:
                connection = await pool.acquire(timeout=self.pool_timeout)
            except TimeoutError as exc:
                raise sa_exc.TimeoutError("no plain database connection free") from exc
            try:
                yield connection
            except Exception as exc:
                raise _dbapi_error(exc, _closed(connection)) from exc
            finally:
                await pool.release(connection)
            return
        async with self.engine.connect() as conn:
            try:
                yield (await conn.get_raw_connection()).driver_connection
            except Exception as exc:
                await conn.invalidate()
                raise _dbapi_error(exc, True) from exc

    async def _open_plain_pool(self) -> asyncpg.Pool:
        async with self._plain_lock:
            if self._plain_pool is None:
                self._plain_pool = await asyncpg.create_pool(
                    self.asyncpg_dsn(),
                    min_size=0,
                    max_size=self.pool_size,
                    max_inactive_connection_lifetime=60,
                    reset=_no_reset,
                )
        return self._plain_pool

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
        if self._plain_pool is not None:
            pool, self._plain_pool = self._plain_pool, None
            await pool.close()
        await self.engine.dispose()


def _dbapi_error(exc: Exception, invalidated: bool) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError(None, None, exc, connection_invalidated=invalidated)


def _closed(connection: asyncpg.Connection) -> bool:
    try:
        return connection.is_closed()
    except asyncpg.InterfaceError:  # the pool took it back as it died
        return True


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """Plain connections run single statements outside transactions: nothing to reset."""


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


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout when it was idle more than ``idle_seconds``; one
    that does not answer is discarded and the pool takes (or opens) another."""
    pool = engine.sync_engine.pool

    def checkin(_dbapi_conn, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_conn, record, _proxy) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            dbapi_conn.ping()
        except Exception as exc:
            log.info("a pooled database connection was gone (%s); replacing it", exc)
            raise sa_exc.DisconnectionError() from exc

    event.listen(pool, "checkin", checkin)
    event.listen(pool, "checkout", checkout)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()

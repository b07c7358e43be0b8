"""The agent's durable store (the tables of ``tables``): the inbox with its de-duplication keys,
the jobs, the dispatches it runs, meter samples and the reports outbox.

A message is stored with all its keys in one transaction; if any key is known already the
transaction is rolled back and the message is a duplicate. Everything else is small reads and
writes by key.

On SQLite (the default) the statements run in the event loop's own thread on a plain
``sqlite3`` connection: each is tens of microseconds on a local WAL file, where handing it to
aiosqlite's thread and back cost about a millisecond of CPU per call (ten calls an instruction:
most of what the agent spent on one). A transaction here never waits on the loop, so two never
interleave. Other databases go through SQLAlchemy's asyncio engine."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from flexhub.agent import tables as t


class _InLoop:
    """A synchronous connection behind the few awaitable methods the store calls."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.scalars(*args, **kwargs)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._conn.begin_nested():
            yield


class AgentStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | Engine | None = None
        self.on_jobs: Callable[[], None] | None = None  # told when jobs were added

    async def open(self) -> AgentStore:
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            if url.database:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url.set(drivername="sqlite"))
            event.listen(engine, "connect", _sqlite_pragmas)
            t.metadata.create_all(engine)
            self.engine = engine
            return self
        self.engine = create_async_engine(self.url)
        async with self.engine.begin() as conn:
            await conn.run_sync(t.metadata.create_all)
        return self

    async def close(self) -> None:
        if isinstance(self.engine, AsyncEngine):
            await self.engine.dispose()
        elif self.engine is not None:
            self.engine.dispose()
        self.engine = None

    def _begin(self):
        """A transaction, committed when the block ends (rolled back on an exception)."""
        return self._connection(transaction=True)

    def _connect(self):
        """A connection for reads."""
        return self._connection(transaction=False)

    @asynccontextmanager
    async def _connection(self, *, transaction: bool) -> AsyncIterator[Any]:
        engine = self._engine()
        if isinstance(engine, AsyncEngine):
            async with engine.begin() if transaction else engine.connect() as conn:
                yield conn
        else:
            with engine.begin() if transaction else engine.connect() as conn:
                yield _InLoop(conn)

    def _engine(self) -> AsyncEngine | Engine:
        if self.engine is None:
            raise RuntimeError("the store is not open")
        return self.engine

    # --- inbox --------------------------------------------------------------------------------

    async def store_message(
        self, source: str, kind: str, subject: str, body: Any, keys: Iterable[str]
    ) -> int | None:
        """Store a verified message under its keys; ``None`` when any key is known (a
        duplicate: nothing is stored)."""
        keys = sorted({k for k in keys if k})
        try:
            async with self._begin() as conn:
                known = await conn.scalar(
                    select(func.count())
                    .select_from(t.inbox_keys)
                    .where(t.inbox_keys.c.key.in_(keys))
                )
                if known:
                    return None
                result = await conn.execute(
                    insert(t.inbox).values(
                        source=source,
                        kind=kind,
                        subject=subject,
                        body=body,
                        received_at=time.time(),
                    )
                )
                message_id = result.inserted_primary_key[0]
                await conn.execute(
                    insert(t.inbox_keys), [{"key": k, "message_id": message_id} for k in keys]
                )
                return int(message_id)
        except IntegrityError:  # the same key stored concurrently
            return None

    async def unprocessed(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self._connect() as conn:
            rows = await conn.execute(
                select(t.inbox)
                .where(t.inbox.c.processed_at.is_(None))
                .order_by(t.inbox.c.id)
                .limit(limit)
            )
            return [dict(r._mapping) for r in rows]

    async def mark_processed(self, message_id: int, outcome: str) -> None:
        async with self._begin() as conn:
            await conn.execute(
                update(t.inbox)
                .where(t.inbox.c.id == message_id)
                .values(processed_at=time.time(), outcome=outcome[:2000])
            )

    async def messages(self, source: str | None = None) -> list[dict[str, Any]]:
        query = select(t.inbox).order_by(t.inbox.c.id)
        if source:
            query = query.where(t.inbox.c.source == source)
        async with self._connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def known(self, key: str) -> bool:
        async with self._connect() as conn:
            return bool(
                await conn.scalar(
                    select(func.count()).select_from(t.inbox_keys).where(t.inbox_keys.c.key == key)
                )
            )

    # --- jobs ---------------------------------------------------------------------------------

    async def add_jobs(self, items: Iterable[tuple[str, str, float, Mapping[str, Any]]]) -> int:
        """``(key, kind, due, body)`` each; a key already planned is left as it is."""
        added = 0
        for key, kind, due, body in items:
            try:
                async with self._begin() as conn:
                    await conn.execute(
                        insert(t.jobs).values(key=key, kind=kind, due=due, body=dict(body))
                    )
                added += 1
            except IntegrityError:
                continue
        if added and self.on_jobs is not None:
            self.on_jobs()
        return added

    async def due_jobs(self, now: float, limit: int = 200) -> list[dict[str, Any]]:
        async with self._connect() as conn:
            rows = await conn.execute(
                select(t.jobs)
                .where(t.jobs.c.done_at.is_(None), t.jobs.c.due <= now)
                .order_by(t.jobs.c.due, t.jobs.c.id)
                .limit(limit)
            )
            return [dict(r._mapping) for r in rows]

    async def next_due(self) -> float | None:
        async with self._connect() as conn:
            return await conn.scalar(
                select(func.min(t.jobs.c.due)).where(t.jobs.c.done_at.is_(None))
            )

    async def finish_job(self, job_id: int) -> None:
        async with self._begin() as conn:
            await conn.execute(
                update(t.jobs).where(t.jobs.c.id == job_id).values(done_at=time.time())
            )

    async def cancel_jobs(self, prefix: str) -> None:
        async with self._begin() as conn:
            await conn.execute(
                update(t.jobs)
                .where(t.jobs.c.key.startswith(prefix), t.jobs.c.done_at.is_(None))
                .values(done_at=time.time())
            )

    # --- dispatches ---------------------------------------------------------------------------

    async def put_dispatch(self, **row: Any) -> None:
        async with self._begin() as conn:
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(t.dispatches).values(**row))
            except IntegrityError:
                key = row.pop("instruction_id")
                await conn.execute(
                    update(t.dispatches).where(t.dispatches.c.instruction_id == key).values(**row)
                )

    async def update_dispatch(self, instruction_id: str, **values: Any) -> None:
        async with self._begin() as conn:
            await conn.execute(
                update(t.dispatches)
                .where(t.dispatches.c.instruction_id == instruction_id)
                .values(**values)
            )

    async def dispatch(self, instruction_id: str) -> dict[str, Any] | None:
        async with self._connect() as conn:
            row = (
                await conn.execute(
                    select(t.dispatches).where(t.dispatches.c.instruction_id == instruction_id)
                )
            ).first()
            return dict(row._mapping) if row else None

    async def dispatches(
        self,
        states: Iterable[str] | None = None,
        overlapping: tuple[float, float] | None = None,
    ) -> list[dict[str, Any]]:
        """The dispatches (in ``states``; whose window overlaps ``(start, end)``)."""
        return await self._dispatch_rows(select(t.dispatches), states, overlapping)

    async def _dispatch_rows(
        self, query: Any, states: Iterable[str] | None, overlapping: tuple[float, float] | None
    ) -> list[dict[str, Any]]:
        if states is not None:
            query = query.where(t.dispatches.c.state.in_(list(states)))
        if overlapping is not None:
            query = query.where(
                t.dispatches.c.start < overlapping[1], t.dispatches.c.end > overlapping[0]
            )
        async with self._connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    # --- meter samples ------------------------------------------------------------------------

    async def add_sample(
        self, event_id: str, asset_id: str, hour: int, import_kwh: float, export_kwh: float
    ) -> None:
        try:
            async with self._begin() as conn:
                await conn.execute(
                    insert(t.meter_samples).values(
                        event_id=event_id,
                        asset_id=asset_id,
                        hour=hour,
                        import_kwh=import_kwh,
                        export_kwh=export_kwh,
                    )
                )
        except IntegrityError:
            pass

    async def add_samples(
        self, event_id: str, hour: int, readings: Sequence[tuple[str, float, float]]
    ) -> None:
        """``(asset id, import kWh, export kWh)`` of one hour's reading, in one transaction
        (an asset already sampled for that hour keeps its sample)."""
        if not readings:
            return
        ms = t.meter_samples
        async with self._begin() as conn:
            have = set(
                await conn.scalars(
                    select(ms.c.asset_id).where(ms.c.event_id == event_id, ms.c.hour == hour)
                )
            )
            rows = [
                {
                    "event_id": event_id,
                    "asset_id": a,
                    "hour": hour,
                    "import_kwh": imp,
                    "export_kwh": exp,
                }
                for a, imp, exp in readings
                if a not in have
            ]
            if rows:
                await conn.execute(insert(ms), rows)

    async def samples(self, event_id: str) -> dict[str, dict[int, float]]:
        """asset id -> hour -> net import kWh (cumulative)."""
        out: dict[str, dict[int, float]] = {}
        async with self._connect() as conn:
            rows = await conn.execute(
                select(t.meter_samples).where(t.meter_samples.c.event_id == event_id)
            )
            for r in rows:
                out.setdefault(r.asset_id, {})[r.hour] = r.import_kwh - r.export_kwh
        return out

    # --- reports outbox -----------------------------------------------------------------------

    async def add_report(self, key: str, event_id: str, body: Mapping[str, Any]) -> bool:
        try:
            async with self._begin() as conn:
                await conn.execute(
                    insert(t.reports).values(
                        key=key,
                        event_id=event_id,
                        body=dict(body),
                        created_at=time.time(),
                        attempts=0,
                    )
                )
            return True
        except IntegrityError:
            return False

    async def pending_reports(self) -> list[dict[str, Any]]:
        async with self._connect() as conn:
            rows = await conn.execute(
                select(t.reports)
                .where(t.reports.c.sent_at.is_(None), t.reports.c.failed.is_(None))
                .order_by(t.reports.c.id)
            )
            return [dict(r._mapping) for r in rows]

    async def report_attempt(self, report_id: int, **values: Any) -> None:
        async with self._begin() as conn:
            await conn.execute(
                update(t.reports)
                .where(t.reports.c.id == report_id)
                .values(attempts=t.reports.c.attempts + 1, **values)
            )

    async def reports(self, event_id: str | None = None) -> list[dict[str, Any]]:
        query = select(t.reports).order_by(t.reports.c.id)
        if event_id:
            query = query.where(t.reports.c.event_id == event_id)
        async with self._connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()

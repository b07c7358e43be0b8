"""Reading many rows cheaply: a parameterless query's rows as plain tuples, on PostgreSQL read
by the driver itself (asyncpg records), skipping SQLAlchemy's row processing for 100,000s of
rows; on SQLite through SQLAlchemy as usual."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection


async def plain_rows(conn: AsyncConnection, statement: Select) -> list[tuple]:
    if conn.dialect.name == "postgresql":
        compiled = statement.compile(dialect=conn.dialect)
        if not compiled.params:
            raw = await conn.get_raw_connection()
            records = await raw.driver_connection.fetch(str(compiled))
            return [tuple(r) for r in records]
    return [tuple(r) for r in (await conn.execute(statement)).all()]

"""Committing a request's writes, for both APIs: a unique or foreign key race lost to a
concurrent request becomes a clean 4xx in the API's own format instead of a 500, and so does a
row a concurrent request deleted first."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import Delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import ApiError


@contextlib.asynccontextmanager
async def committing(
    session: AsyncSession, status: int, message: str, field: str | None = None
) -> AsyncIterator[None]:
    """Run the writes of the block and commit; an IntegrityError anywhere (flush or commit)
    rolls back and answers ``status`` with ``message``."""
    try:
        yield
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(status, message, errors={field: [message]} if field else None) from exc


async def delete_existing(session: AsyncSession, statement: Delete, missing: ApiError) -> None:
    """Run a DELETE that must remove a row the caller found; when nothing matched (a
    concurrent request deleted it first) answer ``missing`` (the transaction is rolled back).
    The caller commits."""
    result = await session.execute(statement)
    if not result.rowcount:
        raise missing

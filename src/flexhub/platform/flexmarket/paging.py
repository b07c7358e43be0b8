"""DRF limit/offset paging shared by every Flex Market list: ``{"count", "next", "previous",
"results"}`` with ``?limit=`` (default 100, max 1000) and ``?offset=``; ``next``/``previous``
are absolute URLs built from the request URL, its other query parameters kept. (The wire shape
is ``flexhub.wire.flexmarket.common.Paginated``.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Query, Request
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class Page:
    """Which slice of a list was asked for."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


async def page_params(
    limit: int = Query(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"page size, 1 to {MAX_LIMIT}"
    ),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="how many results to skip"),
) -> Page:
    """``limit``/``offset`` as a FastAPI dependency; bad values are a 400 naming the parameter."""
    return Page(limit, offset)


async def fetch(session: AsyncSession, query: Select, page: Page) -> tuple[list[Any], int]:
    """One page of ``query`` (already filtered and ordered) and the total count."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.scalars(query.limit(page.limit).offset(page.offset))).all()
    return list(rows), int(total or 0)


def _link(url: str, limit: int, offset: int) -> str:
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("limit", "offset")
    ]
    query.append(("limit", str(limit)))
    if offset:
        query.append(("offset", str(offset)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def page_body(url: str, results: Sequence[Any], count: int, page: Page) -> dict[str, Any]:
    """The wire body of one page; ``url`` is the absolute URL the list was asked at."""
    limit, offset = page.limit, page.offset
    next_url = _link(url, limit, offset + limit) if offset + limit < count else None
    previous = _link(url, limit, max(0, offset - limit)) if offset > 0 else None
    return {"count": count, "next": next_url, "previous": previous, "results": list(results)}


def paginated(request: Request, results: Sequence[Any], count: int, page: Page) -> dict[str, Any]:
    """:func:`page_body` for the URL of ``request``."""
    return page_body(str(request.url), results, count, page)

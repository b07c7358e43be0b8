"""Both paging styles as async iterators of typed items.

- Energy Coordination: ``?page=`` (1-based) and ``?pageSize=``, answered with an
  ``ApiPagination`` object (``nextPage`` null on the last page) beside the items.
- Flex Market (DRF): ``?limit=&offset=``, answered ``{"count", "next", "previous",
  "results"}``; ``next`` is an absolute URL. Its query is followed on the client's own base URL,
  so that a proxy that rewrites the host or scheme does not lead the client elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

from flexhub.clients.http import ApiSession, typed_list

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


async def ec_pages(
    api: ApiSession,
    path: str,
    key: str,
    model: type[M],
    *,
    page_size: int = 100,
    params: dict[str, Any] | None = None,
) -> AsyncIterator[M]:
    page = 1
    while True:
        body = await api.request(
            "GET", path, params={**(params or {}), "page": page, "pageSize": page_size}
        )
        for item in typed_list(model, body.get(key)):
            yield item
        following = (body.get("pagination") or {}).get("nextPage")
        if not isinstance(following, int) or following <= page:
            return
        page = following


async def fm_pages(
    api: ApiSession,
    path: str,
    model: type[M],
    *,
    limit: int = 100,
    params: dict[str, Any] | None = None,
) -> AsyncIterator[M]:
    page_params: dict[str, Any] = {**(params or {}), "limit": limit}
    seen: set[tuple[tuple[str, str], ...]] = set()
    while True:
        body = await api.request("GET", path, params=page_params)
        for item in typed_list(model, body.get("results")):
            yield item
        following = body.get("next")
        if not following:
            return
        page_params = dict(parse_qsl(urlsplit(following).query, keep_blank_values=True))
        key = tuple(sorted(page_params.items()))
        if key in seen:  # a server that keeps pointing at a page already read
            return
        seen.add(key)


async def collect(items: AsyncIterable[T]) -> list[T]:
    """Every item of an ``iter_*`` list: ``await collect(client.iter_users())``."""
    return [item async for item in items]

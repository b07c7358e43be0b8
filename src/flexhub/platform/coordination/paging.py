"""Energy Coordination paging: ``page`` (1-based) and ``pageSize`` (1 to 1000, default 100)
query parameters, answered with the document's ``ApiPagination`` object beside the items."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from flexhub.platform.errors import ApiError
from flexhub.wire.coordination.common import ApiPagination

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
INT32_MAX = 2**31 - 1  # page and pageSize are int32 in the document


@dataclass(frozen=True)
class Page:
    """A validated ``page``/``pageSize`` request."""

    number: int
    size: int

    def pagination(self, total: int) -> ApiPagination:
        return ApiPagination.of(total, self.number, self.size)


def page_params(page: int | None, page_size: int | None) -> Page:
    """Validate ``page``/``pageSize`` (1-based; pageSize 1..1000; defaults 1 and 100)."""
    page = 1 if page is None else page
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= page <= INT32_MAX:
        raise ApiError(
            400,
            f"page must be between 1 and {INT32_MAX}",
            errors={"page": [f"must be between 1 and {INT32_MAX}"]},
        )
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiError(
            400,
            f"pageSize must be between 1 and {MAX_PAGE_SIZE}",
            errors={"pageSize": [f"must be between 1 and {MAX_PAGE_SIZE}"]},
        )
    return Page(page, page_size)


async def page_query(
    page: int | None = Query(None), page_size: int | None = Query(None, alias="pageSize")
) -> Page:
    """FastAPI dependency for the document's ``page`` and ``pageSize`` query parameters."""
    return page_params(page, page_size)

"""Shared wire pieces: the request base (unknown fields refused) and paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from flexhub.platform.errors import ApiError

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
INT32_MAX = 2**31 - 1  # page and pageSize are int32 in the document


class Request(BaseModel):
    """Base of every request body: ``additionalProperties: false`` in the document."""

    model_config = ConfigDict(extra="forbid", strict=True)


def page_params(page: int | None, page_size: int | None) -> tuple[int, int]:
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
    return page, page_size


def pagination(total: int, page: int, page_size: int) -> dict:
    """The document's ``ApiPagination`` object."""
    pages = (total + page_size - 1) // page_size
    return {
        "totalRecords": total,
        "pageSize": page_size,
        "currentPage": page,
        "totalPages": pages,
        "nextPage": page + 1 if page < pages else None,
        "previousPage": page - 1 if page > 1 else None,
    }


@dataclass(frozen=True)
class Page:
    """A validated ``page``/``pageSize`` request."""

    number: int
    size: int

    def body(self, key: str, items: list[Any], total: int) -> dict[str, Any]:
        """The paged response: ``{"pagination": ..., key: items}``."""
        return {"pagination": pagination(total, self.number, self.size), key: items}


def page_query(
    page: int | None = Query(None), page_size: int | None = Query(None, alias="pageSize")
) -> Page:
    """FastAPI dependency for the document's ``page`` and ``pageSize`` query parameters."""
    return Page(*page_params(page, page_size))

"""The ceiling of the batch endpoints (``FLEXHUB_MAX_BATCH_ITEMS``): a request with more items
than that is refused as a whole, before anything is read or written, as a 400 in the API's own
format naming the list and the ceiling (the app-wide JSON guard, ``guards.py``, refuses such a
list first when the ceiling is at or above its own limit; this check holds for lower ones)."""

from __future__ import annotations

from collections.abc import Sized

from fastapi import Depends

from flexhub.platform.context import PlatformContext
from flexhub.platform.deps import get_ctx
from flexhub.platform.errors import bad_request


def batch_ceiling(ctx: PlatformContext = Depends(get_ctx)) -> int:
    return ctx.settings.max_batch_items


def check_size(items: Sized, field: str, ceiling: int) -> None:
    if len(items) > ceiling:
        raise bad_request(
            f"{field}: at most {ceiling} items per call, this request has {len(items)} "
            "(split it into several calls)",
            field,
        )

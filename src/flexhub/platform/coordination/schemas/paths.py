"""Ids in request paths. A path id that cannot exist (empty, too long, padded with spaces) is
simply not found, as an unknown one is: a 404 (or the documented 400 where the operation lists
no 404)."""

from __future__ import annotations

from flexhub.platform.errors import not_found
from flexhub.wire.coordination.common import MAX_ID


def path_id(value: str, kind: str) -> str:
    if not value or len(value) > MAX_ID or value != value.strip():
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise not_found(f"{kind} '{shown}'")
    return value

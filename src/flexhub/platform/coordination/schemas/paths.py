"""Ids in request paths. A path id that cannot exist (empty, too long, padded with spaces) is
simply not found, as an unknown one is: a 404 (or the documented 400 where the operation lists
no 404). Ids are NFC normalised, as they are when created."""

from __future__ import annotations

from flexhub.platform.errors import not_found
from flexhub.wire.coordination.common import MAX_ID, normalise_id


def path_id(value: str, kind: str) -> str:
    """The id as stored (NFC normalised, as ids are when created), or a 404."""
    if not value or len(value) > MAX_ID or value != value.strip():
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise not_found(f"{kind} '{shown}'")
    return normalise_id(value)

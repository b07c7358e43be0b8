"""The clock: timezone-aware UTC now. Everything may import it (platform, agent, sim, store)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)

"""Publish a Flex Market webhook event inside the caller's transaction (to be written:
stores the event and enqueues one outbox row per matching active subscription)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def publish(
    session: AsyncSession, tenant_id: str, event_type: str, data: dict[str, Any]
) -> None:
    """``event_type`` is e.g. ``dispatch_instruction.created``; ``data`` is the object exactly as
    the REST API shows it to ``tenant_id`` (the provider). The caller commits."""
    return None

"""Publishing what the eligibility engine finds: after a write that may change who is eligible,
ONE ``UserEligibility`` event (in the write's transaction) lists the users who became eligible
and those who no longer are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination.events import create_event
from flexhub.platform.engines import eligibility
from flexhub.platform.engines.eligibility import EligibilityChange
from flexhub.wire.coordination.events import UserEligibilityPayload


async def publish(session: AsyncSession, tenant_id: str, change: EligibilityChange) -> None:
    if not change:
        return
    payload = UserEligibilityPayload(
        lastUpdated=utcnow(), addedUsers=change.added, removedUsers=change.removed
    )
    await create_event(session, tenant_id, payload)


async def refresh(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> EligibilityChange:
    """Recompute these users' eligibility and publish what changed (the caller commits)."""
    change = await eligibility.refresh_users(session, tenant_id, user_ids)
    await publish(session, tenant_id, change)
    return change


async def users_deleted(session: AsyncSession, tenant_id: str, users: Iterable[Any]) -> None:
    """Users just deleted (as the DELETE returned them): the eligible ones leave."""
    await publish(session, tenant_id, eligibility.users_deleted(users))

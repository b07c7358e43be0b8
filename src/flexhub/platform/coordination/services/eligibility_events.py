"""What the eligibility cycle (``eligibility_cycle``) will announce. A write that flips users'
eligibility stores it on the user in its own transaction (``EcUser.eligible``, so the
eligibility endpoints answer the truth at once), where ``EcUser.announced`` still holds what
the partner was last told; the cycle announces the users where the two differ, so that added
and removed again inside one cycle announces nothing. A user deleted while the partner was last
told it is eligible leaves a row in ``ec_eligibility_gone``, written with the delete."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.engines import eligibility
from flexhub.platform.engines.eligibility import EligibilityChange
from flexhub.store.coordination import EcEligibilityGone


async def refresh(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> EligibilityChange:
    """Recompute these users' eligibility, stored for the next cycle (the caller commits)."""
    return await eligibility.refresh_users(session, tenant_id, user_ids)


async def users_deleted(session: AsyncSession, tenant_id: str, users: Iterable[Any]) -> None:
    """Users just deleted (rows with ``user_id`` and ``announced``, as the DELETE returned
    them): those the partner was last told are eligible are announced removed at the next
    cycle (the caller commits)."""
    now = utcnow()
    rows = [
        {"tenant_id": tenant_id, "user_id": u.user_id, "changed_at": now}
        for u in users
        if u.announced
    ]
    if not rows:
        return
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(EcEligibilityGone)
    statement = statement.on_conflict_do_update(  # deleted again after being made again
        index_elements=["tenant_id", "user_id"],
        set_={"changed_at": statement.excluded.changed_at},
    )
    await session.execute(statement, rows)

"""Users: partner-assigned ids, unique per partner. Creating is all-or-nothing, also in batches;
deleting a user removes its locations, meters, resources and enrollment (database cascades)."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.services import eligibility_events
from flexhub.platform.engines import eligibility
from flexhub.platform.errors import ApiError, bad_request, not_found
from flexhub.platform.transactions import committing
from flexhub.store.coordination import EcUser
from flexhub.wire.coordination.users import GetUserResponse

INSERT_CHUNK = 5000  # rows per INSERT (bound parameters stay under the drivers' limits)


def user_missing(user_id: str) -> ApiError:
    return not_found(f"User '{user_id}'")


async def require_user(
    session: AsyncSession, tenant_id: str, user_id: str, *, lock: bool = False
) -> EcUser:
    """The caller's user or 404 (another partner's user is simply not there).

    ``lock``: for writes that change what the user owns (see ``eligibility.lock_users``)."""
    if not lock:
        user = await session.get(EcUser, (tenant_id, user_id))
    else:
        user = next(iter(await eligibility.lock_users(session, tenant_id, [user_id])), None)
    if user is None:
        raise user_missing(user_id)
    return user


async def get_user(session: AsyncSession, tenant_id: str, user_id: str) -> GetUserResponse:
    return mappers.user((await require_user(session, tenant_id, user_id)).user_id)


async def list_users(
    session: AsyncSession, tenant_id: str, page: int, page_size: int, *, eligible_only=False
) -> tuple[list[GetUserResponse], int]:
    """Oldest first (creation order), then by id."""
    where = [EcUser.tenant_id == tenant_id]
    if eligible_only:
        where.append(EcUser.eligible.is_(True))
    total = await session.scalar(select(func.count()).select_from(EcUser).where(*where))
    rows = await session.scalars(
        select(EcUser)
        .where(*where)
        .order_by(EcUser.created_at, EcUser.user_id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [mappers.user(u.user_id) for u in rows.all()], int(total or 0)


async def create_users(
    session: AsyncSession, tenant_id: str, user_ids: list[str], *, field: str = "users"
) -> list[GetUserResponse]:
    """Create every user or none. A duplicate (already stored, or twice in the request) is a
    400 naming the entry: ``userId`` for a single create, ``users[i].userId`` in a batch."""
    single = field == "userId"

    def name(i: int) -> str:
        return "userId" if single else f"{field}[{i}].userId"

    seen: dict[str, int] = {}
    for i, user_id in enumerate(user_ids):
        if user_id in seen:
            raise bad_request(
                f"{name(i)}: userId '{user_id}' appears more than once in the request "
                f"(first at {name(seen[user_id])})",
                name(i),
            )
        seen[user_id] = i
    if user_ids:
        existing = set(
            (
                await session.scalars(
                    select(EcUser.user_id).where(
                        EcUser.tenant_id == tenant_id, EcUser.user_id.in_(user_ids)
                    )
                )
            ).all()
        )
        for i, user_id in enumerate(user_ids):
            if user_id in existing:
                raise bad_request(
                    f"{name(i)}: a user with userId '{user_id}' already exists", name(i)
                )
    now = utcnow()
    rows = [
        {"tenant_id": tenant_id, "user_id": u, "eligible": False, "simulated": False,
         "created_at": now}
        for u in user_ids
    ]  # fmt: skip
    async with committing(session, 400, "a user with one of these ids already exists", field):
        for k in range(0, len(rows), INSERT_CHUNK):  # bulk: a multi-row INSERT per chunk
            await session.execute(insert(EcUser), rows[k : k + INSERT_CHUNK])
    return [mappers.user(u) for u in user_ids]


async def delete_user(session: AsyncSession, tenant_id: str, user_id: str) -> None:
    """Delete a user and everything hanging off it; an eligible user leaves in a
    UserEligibility event. Deleting and reading what was deleted is one statement, so of
    several concurrent deletes one answers 204 and publishes, the others 404."""
    await eligibility.hold_guard(session)
    deleted = (
        await session.execute(
            delete(EcUser)
            .where(EcUser.tenant_id == tenant_id, EcUser.user_id == user_id)
            .returning(EcUser.user_id, EcUser.announced)
        )
    ).all()
    if not deleted:
        raise user_missing(user_id)
    await eligibility_events.users_deleted(session, tenant_id, deleted)
    await session.commit()

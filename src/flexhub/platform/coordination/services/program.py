"""The SPARK Program: enrollment, eligibility queries and the month's compensation.

Rules:
- only an eligible user can be enrolled (else 400); enrolling again returns the same
  enrollment (idempotent, also after the user lost eligibility);
- losing eligibility keeps the enrollment on record; the user just gets no events meanwhile;
- removing an enrollment that does not exist is a 404 (like every other DELETE);
- a meter point is eligible when a neighbourhood lists it, or when it is registered on one of
  the caller's locations and that location lies in a neighbourhood; unknown meters are simply
  not eligible.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.services.users import require_user
from flexhub.platform.engines import compensation
from flexhub.platform.engines.neighbourhood_rows import placement
from flexhub.platform.errors import bad_request, not_found
from flexhub.platform.transactions import delete_existing
from flexhub.store.coordination import ID, EcEnrollment, EcLocation, EcLocationMeter, EcUser
from flexhub.wire.coordination.program import (
    GetMpidEligibilityResponse,
    GetUserCompensationForCurrentMonthResponse,
    GetUserEligibilityResponse,
    GetUserEnrollmentResponse,
)


async def get_enrollment(
    session: AsyncSession, tenant_id: str, user_id: str
) -> GetUserEnrollmentResponse:
    await require_user(session, tenant_id, user_id)
    return mappers.enrollment(user_id, await session.get(EcEnrollment, (tenant_id, user_id)))


async def enroll(session: AsyncSession, tenant_id: str, user_id: str) -> GetUserEnrollmentResponse:
    """Enroll an eligible user (enrolling again answers with the existing enrollment)."""
    return mappers.enrollment(user_id, await _enroll(session, tenant_id, user_id))


async def _enroll(session: AsyncSession, tenant_id: str, user_id: str) -> EcEnrollment:
    user = await require_user(session, tenant_id, user_id)
    existing = await session.get(EcEnrollment, (tenant_id, user_id))
    if existing is not None:
        return existing
    if not user.eligible:
        raise bad_request(
            f"User '{user_id}' is not eligible for the SPARK Program: none of its locations "
            "lies in a neighbourhood of the program",
            "userId",
        )
    enrollment = EcEnrollment(
        tenant_id=tenant_id,
        user_id=user_id,
        enrollment_id=str(uuid.uuid4()),
        enrolled_at=utcnow(),
    )
    session.add(enrollment)
    try:
        await session.commit()
    except IntegrityError:
        # a concurrent request enrolled the user first: answer with its enrollment
        await session.rollback()
        winner = await session.get(EcEnrollment, (tenant_id, user_id))
        if winner is None:
            raise not_found(f"User '{user_id}'") from None
        return winner
    return enrollment


async def unenroll(session: AsyncSession, tenant_id: str, user_id: str) -> None:
    await require_user(session, tenant_id, user_id)
    statement = delete(EcEnrollment).where(
        EcEnrollment.tenant_id == tenant_id, EcEnrollment.user_id == user_id
    )
    await delete_existing(session, statement, not_found(f"Enrollment of user '{user_id}'"))
    await session.commit()


async def user_eligibility(
    session: AsyncSession, tenant_id: str, user_id: str
) -> GetUserEligibilityResponse:
    user = await require_user(session, tenant_id, user_id)
    return mappers.user_eligibility(user_id, bool(user.eligible))


async def meter_eligibility(
    session: AsyncSession, tenant_id: str, meter_point_id: str
) -> GetMpidEligibilityResponse:
    eligible = await _meter_eligible(session, tenant_id, meter_point_id)
    return mappers.meter_eligibility(meter_point_id, eligible)


async def _meter_eligible(session: AsyncSession, tenant_id: str, meter_point_id: str) -> bool:
    if not meter_point_id or len(meter_point_id) > ID.length:
        return False  # no meter point id can be like that
    index = await placement(session)
    if index.area_of_meter(meter_point_id) is not None:
        return True
    location = await session.scalar(
        select(EcLocation)
        .join(
            EcLocationMeter,
            (EcLocationMeter.tenant_id == EcLocation.tenant_id)
            & (EcLocationMeter.location_id == EcLocation.location_id),
        )
        .where(
            EcLocationMeter.tenant_id == tenant_id,
            EcLocationMeter.meter_point_id == meter_point_id,
        )
    )
    if location is None:
        return False
    return bool(index.areas_at(location.latitude, location.longitude))


async def user_compensation(
    session: AsyncSession, tenant_id: str, user_id: str, now: datetime | None = None
) -> GetUserCompensationForCurrentMonthResponse:
    user: EcUser = await require_user(session, tenant_id, user_id)
    result = await compensation.user_compensation(session, tenant_id, user.user_id, now)
    return mappers.compensation(result)

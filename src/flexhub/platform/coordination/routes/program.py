"""Energy Coordination routes: the SPARK Program (enrollment, eligibility, compensation).

``/users/eligible`` is declared here, and this router is included before the users router, so
it is not taken for a user id. Its 400s are problem+json; the others' are bare JSON strings."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination.events import iso
from flexhub.platform.coordination.schemas.assets import compensation_wire, path_id, user_wire
from flexhub.platform.coordination.schemas.common import Page, page_query
from flexhub.platform.coordination.services import program as service
from flexhub.platform.coordination.services.users import list_users
from flexhub.platform.deps import get_session, provider
from flexhub.store.coordination import EcEnrollment

router = APIRouter(tags=["User Spark Program"])


def _enrollment_wire(user_id: str, enrollment: EcEnrollment | None) -> dict:
    """``GetUserEnrollmentResponse``."""
    return {
        "isEnrolled": enrollment is not None,
        "userId": user_id,
        "enrollmentId": enrollment.enrollment_id if enrollment else None,
        "enrollmentDate": iso(enrollment.enrolled_at) if enrollment else None,
    }


@router.get("/users/eligible", openapi_extra=errors.PROBLEM)
async def get_eligible_users(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    rows, total = await list_users(
        session, principal.tenant_id, paging.number, paging.size, eligible_only=True
    )
    return paging.body("users", [user_wire(u.user_id) for u in rows], total)


@router.get("/meters/{mpid}/eligible")
async def get_meter_eligibility(
    mpid: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    eligible = await service.is_meter_eligible(session, principal.tenant_id, mpid)
    return {"meterPointId": mpid, "isEligible": eligible}


@router.get("/users/{userId}/enrollment")
async def get_enrollment(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    enrollment = await service.get_enrollment(session, principal.tenant_id, user_id)
    return _enrollment_wire(user_id, enrollment)


@router.post("/users/{userId}/enrollment")
async def post_enrollment(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    enrollment = await service.enroll(session, principal.tenant_id, user_id)
    return _enrollment_wire(user_id, enrollment)


@router.delete("/users/{userId}/enrollment", status_code=204, response_class=Response)
async def delete_enrollment(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    user_id = path_id(userId, "User")
    await service.unenroll(session, principal.tenant_id, user_id)
    return Response(status_code=204)


@router.get("/users/{userId}/eligibility")
async def get_eligibility(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    eligible = await service.is_user_eligible(session, principal.tenant_id, user_id)
    return {"userId": user_id, "isEligible": eligible}


@router.get("/users/{userId}/compensation")
async def get_compensation(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    result = await service.user_compensation(session, principal.tenant_id, user_id)
    return compensation_wire(result)

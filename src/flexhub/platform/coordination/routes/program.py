"""Energy Coordination routes: the SPARK Program (enrollment, eligibility, compensation).

``/users/eligible`` is declared here, and this router is included before the users router, so
it is not taken for a user id. Its 400s are problem+json; the others' are bare JSON strings."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination.paging import Page, page_query
from flexhub.platform.coordination.schemas.paths import path_id
from flexhub.platform.coordination.services import program as service
from flexhub.platform.coordination.services.users import list_users
from flexhub.platform.deps import get_session, provider
from flexhub.wire.coordination.program import (
    GetEligibleUsersResponse,
    GetMpidEligibilityResponse,
    GetUserCompensationForCurrentMonthResponse,
    GetUserEligibilityResponse,
    GetUserEnrollmentResponse,
)

router = APIRouter(tags=["User Spark Program"])


@router.get(
    "/users/eligible", response_model=GetEligibleUsersResponse, openapi_extra=errors.PROBLEM
)
async def get_eligible_users(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetEligibleUsersResponse:
    users, total = await list_users(
        session, principal.tenant_id, paging.number, paging.size, eligible_only=True
    )
    return GetEligibleUsersResponse(pagination=paging.pagination(total), users=users)


@router.get("/meters/{mpid}/eligible", response_model=GetMpidEligibilityResponse)
async def get_meter_eligibility(
    mpid: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetMpidEligibilityResponse:
    return await service.meter_eligibility(session, principal.tenant_id, mpid)


@router.get("/users/{userId}/enrollment", response_model=GetUserEnrollmentResponse)
async def get_enrollment(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserEnrollmentResponse:
    return await service.get_enrollment(session, principal.tenant_id, path_id(userId, "User"))


@router.post("/users/{userId}/enrollment", response_model=GetUserEnrollmentResponse)
async def post_enrollment(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserEnrollmentResponse:
    return await service.enroll(session, principal.tenant_id, path_id(userId, "User"))


@router.delete("/users/{userId}/enrollment", status_code=204, response_class=Response)
async def delete_enrollment(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.unenroll(session, principal.tenant_id, path_id(userId, "User"))
    return Response(status_code=204)


@router.get("/users/{userId}/eligibility", response_model=GetUserEligibilityResponse)
async def get_eligibility(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserEligibilityResponse:
    return await service.user_eligibility(session, principal.tenant_id, path_id(userId, "User"))


@router.get(
    "/users/{userId}/compensation", response_model=GetUserCompensationForCurrentMonthResponse
)
async def get_compensation(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserCompensationForCurrentMonthResponse:
    return await service.user_compensation(session, principal.tenant_id, path_id(userId, "User"))

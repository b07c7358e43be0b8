"""System operator routes under ``/so/v1/``: competitions, obligations, dispatch instructions
(issue, stop, read) and the availability providers declared."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, system_operator
from flexhub.platform.flexmarket.paging import Page, page_params, paginated
from flexhub.platform.flexmarket.routes.responses import CONFLICT, ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.schemas.filters import (
    InstructionFilters,
    ObligationFilters,
    instruction_filters,
    obligation_filters,
)
from flexhub.platform.flexmarket.services import (
    availability,
    competitions,
    dispatch_issue,
    dispatch_read,
    dispatch_stop,
    obligations,
)
from flexhub.wire.flexmarket.common import Paginated
from flexhub.wire.flexmarket.competitions import CompetitionIn, CompetitionOut
from flexhub.wire.flexmarket.dispatches import DispatchIn, InstructionOut, SoInstructionOut, StopIn
from flexhub.wire.flexmarket.obligations import ObligationIn, ObligationOut, VariationOut

router = APIRouter(prefix="/so/v1", tags=["System operator"])


@router.post("/competitions/", status_code=201, response_model=CompetitionOut, responses=ERRORS)
async def create_competition(
    body: CompetitionIn,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> CompetitionOut:
    return await competitions.create(session, principal.tenant_id, body, utcnow())


@router.get("/competitions/", response_model=Paginated[CompetitionOut], responses=ERRORS)
async def list_competitions(
    request: Request,
    page: Page = Depends(page_params),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await competitions.list_for_so(session, principal.tenant_id, page, utcnow())
    return paginated(request, results, count, page)


@router.get(
    "/competitions/{competition_id}/",
    response_model=CompetitionOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_competition(
    competition_id: str,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> CompetitionOut:
    return await competitions.for_so(session, principal.tenant_id, competition_id, utcnow())


@router.post("/obligations/", status_code=201, response_model=ObligationOut, responses=ERRORS)
async def award_obligation(
    body: ObligationIn,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> ObligationOut:
    return await obligations.award(session, principal.tenant_id, body, utcnow())


@router.get("/obligations/", response_model=Paginated[ObligationOut], responses=ERRORS)
async def list_obligations(
    request: Request,
    filters: ObligationFilters = Depends(obligation_filters),
    page: Page = Depends(page_params),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await obligations.list_obligations(
        session, utcnow(), page, filters, so_tenant_id=principal.tenant_id
    )
    return paginated(request, results, count, page)


@router.get(
    "/obligations/{obligation_id}/",
    response_model=ObligationOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_obligation(
    obligation_id: str,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> ObligationOut:
    return await obligations.get_obligation(
        session, obligation_id, utcnow(), so_tenant_id=principal.tenant_id
    )


@router.post(
    "/dispatches/",
    status_code=201,
    response_model=InstructionOut,
    responses={
        **ERRORS,
        200: {"description": "the same request again: the first instruction"},
        409: {
            "description": "so_reference already used by an instruction with other fields",
            **CONFLICT[409],
        },
    },
)
async def issue_dispatch(
    body: DispatchIn,
    response: Response,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> InstructionOut:
    """201 with the new instruction; 200 with the first one when the same request (same
    ``so_reference``, signed fields and signature) comes again; 409 when the ``so_reference``
    is already used by an instruction with different fields."""
    view, created = await dispatch_issue.issue(session, principal.tenant_id, body, utcnow())
    if not created:
        response.status_code = 200
    return view


@router.get("/dispatches/", response_model=Paginated[InstructionOut], responses=ERRORS)
async def list_dispatches(
    request: Request,
    filters: InstructionFilters = Depends(instruction_filters),
    page: Page = Depends(page_params),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await dispatch_read.list_instructions(
        session, utcnow(), page, filters, so_tenant_id=principal.tenant_id
    )
    return paginated(request, results, count, page)


@router.get(
    "/dispatches/{instruction_id}/",
    response_model=SoInstructionOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_dispatch(
    instruction_id: str,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> SoInstructionOut:
    """The instruction as the provider answered it (``status``, ``responded_at``, ``reason``)."""
    return await dispatch_read.so_dispatch_detail(
        session, principal.tenant_id, instruction_id, utcnow()
    )


@router.post(
    "/dispatches/{instruction_id}/stop/",
    status_code=201,
    response_model=InstructionOut,
    responses={
        **ERRORS,
        **NOT_FOUND,
        **CONFLICT,
        200: {"description": "already stopped by this same stop: the existing stop"},
    },
)
async def stop_dispatch(
    instruction_id: str,
    response: Response,
    body: StopIn | None = None,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> InstructionOut:
    """201 with the new stop instruction; 200 with the existing one when already stopped
    (409 if this request names another ``so_reference``, ``start`` or signature)."""
    view, created = await dispatch_stop.stop(
        session, principal.tenant_id, instruction_id, body or StopIn(), utcnow()
    )
    if not created:
        response.status_code = 200
    return view


@router.get("/availability-variations/", response_model=Paginated[VariationOut], responses=ERRORS)
async def list_variations(
    request: Request,
    obligation_id: str | None = Query(None),
    page: Page = Depends(page_params),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    """What providers declared under the SO's obligations."""
    results, count = await availability.list_variations(
        session, page, obligation_id=obligation_id, so_tenant_id=principal.tenant_id
    )
    return paginated(request, results, count, page)

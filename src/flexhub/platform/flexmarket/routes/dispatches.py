"""Provider dispatch routes: the instructions addressed to the provider, and its answers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, provider
from flexhub.platform.flexmarket.paging import Page, page_params, paginated
from flexhub.platform.flexmarket.routes.responses import CONFLICT, ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.schemas.filters import InstructionFilters, instruction_filters
from flexhub.platform.flexmarket.services import dispatch_answer, dispatch_read
from flexhub.wire.flexmarket.common import Paginated
from flexhub.wire.flexmarket.dispatches import AcceptIn, InstructionOut, RejectIn

router = APIRouter(tags=["Dispatches"])


@router.get("/dispatches/v1/", response_model=Paginated[InstructionOut], responses=ERRORS)
async def list_dispatches(
    request: Request,
    filters: InstructionFilters = Depends(instruction_filters),
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await dispatch_read.list_instructions(
        session, utcnow(), page, filters, provider_tenant_id=principal.tenant_id
    )
    return paginated(request, results, count, page)


@router.get(
    "/dispatches/v1/{instruction_id}/",
    response_model=InstructionOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_dispatch(
    instruction_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> InstructionOut:
    return await dispatch_read.get_for_provider(
        session, principal.tenant_id, instruction_id, utcnow()
    )


@router.post(
    "/dispatches/v1/{instruction_id}/accept/",
    response_model=InstructionOut,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
async def accept(
    instruction_id: str,
    body: AcceptIn | None = None,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> InstructionOut:
    """Accept before ``respond_by``; the body is ``{}`` or empty."""
    return await dispatch_answer.answer(
        session, principal.tenant_id, instruction_id, utcnow(), accept=True
    )


@router.post(
    "/dispatches/v1/{instruction_id}/reject/",
    response_model=InstructionOut,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
async def reject(
    instruction_id: str,
    body: RejectIn,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> InstructionOut:
    """Reject before ``respond_by`` with ``{"reason": "..."}``."""
    return await dispatch_answer.answer(
        session, principal.tenant_id, instruction_id, utcnow(), accept=False, reason=body.reason
    )

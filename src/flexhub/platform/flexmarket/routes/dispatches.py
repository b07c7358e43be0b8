"""Provider dispatch routes: the instructions addressed to the provider, and its answers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, provider
from flexhub.platform.flexmarket import instructions
from flexhub.platform.flexmarket.fields import parse_filter_instant
from flexhub.platform.flexmarket.paging import Page, Paginated, page_params, paginated
from flexhub.platform.flexmarket.routes.common import CONFLICT, ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.schemas.dispatches import AcceptIn, RejectIn
from flexhub.platform.flexmarket.schemas.responses import InstructionOut
from flexhub.store.base import utcnow

router = APIRouter(tags=["Dispatches"])


def instruction_filters(
    status: str | None = Query(None, description=" | ".join(instructions.STATUSES)),
    obligation_id: str | None = Query(None),
    start_since: str | None = Query(None, description="start at or after (date or time)"),
    start_to: str | None = Query(None, description="start at or before (a date: that day)"),
) -> instructions.InstructionFilters:
    instructions.check_filters(status)
    return instructions.InstructionFilters(
        status=status,
        obligation_id=obligation_id,
        start_since=parse_filter_instant("start_since", start_since, upper=False),
        start_before=parse_filter_instant("start_to", start_to, upper=True),
    )


@router.get("/dispatches/v1/", response_model=Paginated[InstructionOut], responses=ERRORS)
async def list_dispatches(
    request: Request,
    filters: instructions.InstructionFilters = Depends(instruction_filters),
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await instructions.list_instructions(
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
) -> dict[str, Any]:
    return await instructions.get_for_provider(
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
) -> dict[str, Any]:
    """Accept before ``respond_by``; the body is ``{}`` or empty."""
    return await instructions.answer(
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
) -> dict[str, Any]:
    """Reject before ``respond_by`` with ``{"reason": "..."}``."""
    return await instructions.answer(
        session, principal.tenant_id, instruction_id, utcnow(), accept=False, reason=body.reason
    )

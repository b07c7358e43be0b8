"""Provider obligation routes: list (with date, competition and bid filters), one, and its
availability variations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, provider
from flexhub.platform.flexmarket.paging import Page, page_params, paginated
from flexhub.platform.flexmarket.routes.responses import ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.schemas.filters import ObligationFilters, obligation_filters
from flexhub.platform.flexmarket.services import availability, obligations
from flexhub.wire.flexmarket.common import Paginated
from flexhub.wire.flexmarket.obligations import ObligationOut, VariationIn, VariationOut

router = APIRouter(tags=["Obligations"])


@router.get("/obligations/v1/", response_model=Paginated[ObligationOut], responses=ERRORS)
async def list_obligations(
    request: Request,
    filters: ObligationFilters = Depends(obligation_filters),
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await obligations.list_obligations(
        session, utcnow(), page, filters, provider_tenant_id=principal.tenant_id
    )
    return paginated(request, results, count, page)


@router.get(
    "/obligations/v1/{obligation_id}/",
    response_model=ObligationOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_obligation(
    obligation_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> ObligationOut:
    return await obligations.get_obligation(
        session, obligation_id, utcnow(), provider_tenant_id=principal.tenant_id
    )


@router.post(
    "/obligations/v1/{obligation_id}/availability-variations/",
    status_code=201,
    response_model=VariationOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def declare_variation(
    obligation_id: str,
    body: VariationIn,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> VariationOut:
    """Declare the capacity available under the obligation for a period."""
    return await availability.declare(session, principal.tenant_id, obligation_id, body, utcnow())


@router.get(
    "/obligations/v1/{obligation_id}/availability-variations/",
    response_model=Paginated[VariationOut],
    responses={**ERRORS, **NOT_FOUND},
)
async def list_variations(
    request: Request,
    obligation_id: str,
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    await obligations.find(session, obligation_id, provider_tenant_id=principal.tenant_id)
    results, count = await availability.list_variations(
        session, page, obligation_id=obligation_id, provider_tenant_id=principal.tenant_id
    )
    return paginated(request, results, count, page)

"""Provider obligation routes: list (with date, competition and bid filters), one, and its
availability variations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, provider
from flexhub.platform.flexmarket import availability, obligations
from flexhub.platform.flexmarket.fields import parse_filter_date
from flexhub.platform.flexmarket.paging import Page, Paginated, page_params, paginated
from flexhub.platform.flexmarket.routes.common import ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.schemas.obligations import VariationIn
from flexhub.platform.flexmarket.schemas.responses import ObligationOut, VariationOut
from flexhub.store.base import utcnow

router = APIRouter(tags=["Obligations"])


def obligation_filters(
    start_since: str | None = Query(None, description="start on or after (YYYY-MM-DD)"),
    start_to: str | None = Query(None, description="start on or before (YYYY-MM-DD)"),
    end_since: str | None = Query(None, description="end on or after (YYYY-MM-DD)"),
    end_to: str | None = Query(None, description="end on or before (YYYY-MM-DD)"),
    competition_id: str | None = Query(None),
    bid_id: str | None = Query(None),
) -> obligations.ObligationFilters:
    return obligations.ObligationFilters(
        start_since=parse_filter_date("start_since", start_since),
        start_to=parse_filter_date("start_to", start_to),
        end_since=parse_filter_date("end_since", end_since),
        end_to=parse_filter_date("end_to", end_to),
        competition_id=competition_id,
        bid_id=bid_id,
    )


@router.get("/obligations/v1/", response_model=Paginated[ObligationOut], responses=ERRORS)
async def list_obligations(
    request: Request,
    filters: obligations.ObligationFilters = Depends(obligation_filters),
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
) -> dict[str, Any]:
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
) -> dict[str, Any]:
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

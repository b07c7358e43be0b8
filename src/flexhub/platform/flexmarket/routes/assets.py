"""Provider asset routes, and the assets obligated under one obligation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, provider
from flexhub.platform.flexmarket.paging import Page, page_params, paginated
from flexhub.platform.flexmarket.routes.responses import ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.services import assets, obligations
from flexhub.wire.flexmarket.assets import AssetIn, AssetOut, AssetPatch
from flexhub.wire.flexmarket.common import Paginated

router = APIRouter(tags=["Assets"])


@router.get("/assets/v1/", response_model=Paginated[AssetOut], responses=ERRORS)
async def list_assets(
    request: Request,
    ref: str | None = Query(None, description="only the asset with this ref"),
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    results, count = await assets.list_assets(session, principal.tenant_id, page, ref)
    return paginated(request, results, count, page)


@router.post("/assets/v1/", status_code=201, response_model=AssetOut, responses=ERRORS)
async def create_asset(
    body: AssetIn,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> AssetOut:
    return await assets.create(session, principal.tenant_id, body, utcnow())


@router.get(
    "/assets/v1/obligations/{obligation_id}/",
    response_model=Paginated[AssetOut],
    responses={**ERRORS, **NOT_FOUND},
)
async def obligated_assets(
    request: Request,
    obligation_id: str,
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    """The assets obligated under one of the provider's obligations."""
    results, count = await obligations.obligated_assets(
        session, principal.tenant_id, obligation_id, page
    )
    return paginated(request, results, count, page)


@router.get("/assets/v1/{asset_id}/", response_model=AssetOut, responses={**ERRORS, **NOT_FOUND})
async def get_asset(
    asset_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> AssetOut:
    return await assets.get(session, principal.tenant_id, asset_id)


@router.patch("/assets/v1/{asset_id}/", response_model=AssetOut, responses={**ERRORS, **NOT_FOUND})
async def update_asset(
    asset_id: str,
    body: AssetPatch,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> AssetOut:
    return await assets.update(session, principal.tenant_id, asset_id, body, utcnow())

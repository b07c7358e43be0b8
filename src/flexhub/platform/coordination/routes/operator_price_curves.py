"""Operator endpoints: running the day-ahead price curves for a date, and the runs so far
with what each sent."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.schemas.operator_grid import (
    GetPriceCurveRunsResponse,
    PostPriceCurveRunRequest,
    PostPriceCurveRunResponse,
    PriceCurveRunResponse,
)
from flexhub.platform.coordination.services import price_curve_runs
from flexhub.platform.deps import get_ctx, get_session, system_operator
from flexhub.store.grid import PriceCurveRun

router = APIRouter(tags=["operator"])


def _run(row: PriceCurveRun) -> PriceCurveRunResponse:
    return PriceCurveRunResponse(
        date=date.fromisoformat(row.day),
        neighbourhoodId=row.neighbourhood_id,
        priceArea=row.price_area,
        trigger=row.trigger,
        needHours=row.need_hours,
        events=row.events,
        targets=row.targets,
        createdAt=row.created_at,
    )


@router.post("/operator/price-curve-runs", response_model=PostPriceCurveRunResponse)
async def post_run(
    body: PostPriceCurveRunRequest,
    principal: Principal = Depends(system_operator),
    ctx: PlatformContext = Depends(get_ctx),
) -> PostPriceCurveRunResponse:
    """Send the price curves for a local day (neighbourhoods run before for it send nothing)."""
    area = None if body.priceArea in (None, "Unknown") else body.priceArea
    outcome = await price_curve_runs.run_day(
        ctx.db,
        ctx.forecaster,
        body.date,
        trigger="operator",
        price_area=area,
        only=body.neighbourhoodIds,
    )
    return PostPriceCurveRunResponse(
        date=body.date,
        events=outcome.events,
        targets=outcome.targets,
        runs=[_run(r) for r in outcome.runs],
        skippedNeighbourhoodIds=outcome.skipped,
    )


@router.get("/operator/price-curve-runs", response_model=GetPriceCurveRunsResponse)
async def get_runs(
    day: date | None = Query(None, alias="date", description="Only this local day"),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> GetPriceCurveRunsResponse:
    """Past runs, newest day first: per neighbourhood, what was sent."""
    rows = await price_curve_runs.list_runs(session, day)
    return GetPriceCurveRunsResponse(runs=[_run(r) for r in rows])

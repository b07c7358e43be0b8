"""Energy Coordination routes: reports (400s as a JSON string naming the field)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.coordination.services import reports as service
from flexhub.platform.deps import get_session, provider
from flexhub.wire.coordination.reports import GetReportResponse, PostReportRequest

router = APIRouter(tags=["Reports"])


@router.post("/reports", response_model=GetReportResponse)
async def post_report(
    body: PostReportRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetReportResponse:
    return await service.post_report(session, principal.tenant_id, body)

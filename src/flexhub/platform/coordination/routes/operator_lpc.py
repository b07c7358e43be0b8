"""Operator endpoints: power-limit requests (LocationLPC, ResourceLPC, LPCReservation events
to the targets' partners) and where each target's acknowledgement stands."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.schemas.operator_grid import (
    GetLpcRequestsResponse,
    LpcRequestResponse,
    PostLpcRequest,
)
from flexhub.platform.coordination.schemas.paths import path_id
from flexhub.platform.coordination.services import lpc
from flexhub.platform.deps import get_ctx, get_session, system_operator

router = APIRouter(tags=["operator"])


@router.post("/operator/lpc-requests", response_model=LpcRequestResponse, status_code=201)
async def post_lpc_request(
    body: PostLpcRequest,
    principal: Principal = Depends(system_operator),
    ctx: PlatformContext = Depends(get_ctx),
    session: AsyncSession = Depends(get_session),
) -> LpcRequestResponse:
    """Limit the power of named targets, or of every enrolled location (resource) in a
    neighbourhood; each partner gets its event, targets start Pending."""
    row = await lpc.request(session, body, ctx.settings.lpc_ack_minutes)
    return await lpc.get(session, row.id)


@router.get("/operator/lpc-requests", response_model=GetLpcRequestsResponse)
async def get_lpc_requests(
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> GetLpcRequestsResponse:
    """The newest requests with their targets' states."""
    return GetLpcRequestsResponse(requests=await lpc.recent(session, limit))


@router.get("/operator/lpc-requests/{requestId}", response_model=LpcRequestResponse)
async def get_lpc_request(
    requestId: str,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> LpcRequestResponse:
    return await lpc.get(session, path_id(requestId, "LPC request"))

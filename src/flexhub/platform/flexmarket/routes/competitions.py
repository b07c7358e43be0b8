"""``GET /competitions/v1/{id}/``: the parent competition of one of the provider's obligations."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.auth import Principal
from flexhub.platform.deps import get_session, provider
from flexhub.platform.flexmarket.routes.responses import ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.services import competitions
from flexhub.wire.flexmarket.competitions import CompetitionOut

router = APIRouter(tags=["Competitions"])


@router.get(
    "/competitions/v1/{competition_id}/",
    response_model=CompetitionOut,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_competition(
    competition_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> CompetitionOut:
    """404 unless the provider holds an obligation under the competition."""
    return await competitions.for_provider(session, principal.tenant_id, competition_id, utcnow())

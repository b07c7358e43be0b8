"""``POST /authtoken/v1/``: a machine user's ``client_id`` and ``api_key`` for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.context import PlatformContext
from flexhub.platform.deps import get_ctx, get_session
from flexhub.platform.errors import ApiError
from flexhub.platform.flexmarket.routes.responses import ERRORS
from flexhub.platform.token_routes import grant_token
from flexhub.wire.flexmarket.common import TokenIn, TokenOut

router = APIRouter(tags=["Authentication"])


@router.post(
    "/authtoken/v1/",
    response_model=TokenOut,
    responses={400: ERRORS[400], 401: ERRORS[401], 429: ERRORS[429]},
)
async def authtoken(
    body: TokenIn,
    request: Request,
    ctx: PlatformContext = Depends(get_ctx),
    session: AsyncSession = Depends(get_session),
) -> TokenOut:
    """Returns ``{"token": "<JWT>"}``; send it as ``Authorization: Bearer <token>``."""
    missing = {f: ["This field may not be blank."] for f in ("client_id", "api_key")}
    missing = {f: m for f, m in missing.items() if not getattr(body, f)}
    if missing:
        raise ApiError(400, "client_id and api_key are required", errors=missing)
    token = await grant_token(
        ctx, session, request, body.client_id, body.api_key, "Invalid credentials."
    )
    return TokenOut(token=token)

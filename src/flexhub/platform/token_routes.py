"""``POST /connect/token``: OAuth2 client credentials, as Volue's identity server answers it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import AuthError, authenticate_client, issue_token
from flexhub.platform.context import PlatformContext
from flexhub.platform.deps import get_ctx, get_session
from flexhub.platform.errors import ApiError

router = APIRouter(tags=["Authentication"])


@router.post("/connect/token")
async def token(
    request: Request,
    ctx: PlatformContext = Depends(get_ctx),
    session: AsyncSession = Depends(get_session),
) -> JSONResponse:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise ApiError(400, "the body must be application/x-www-form-urlencoded")
    try:
        form = await request.form()
    except Exception as exc:  # malformed form bodies
        raise ApiError(400, "the form body could not be read") from exc
    if form.get("grant_type") != "client_credentials":
        raise ApiError(400, "grant_type must be client_credentials", code="unsupported_grant_type")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise ApiError(400, "client_id and client_secret are required")
    try:
        partner = await authenticate_client(session, client_id, secret)
    except AuthError as exc:
        raise ApiError(401, str(exc), code="invalid_client") from exc
    ttl = ctx.settings.token_ttl_seconds
    access = issue_token(ctx.keys, partner, ctx.settings.base_url, ttl)
    return JSONResponse(
        {"access_token": access, "token_type": "Bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )

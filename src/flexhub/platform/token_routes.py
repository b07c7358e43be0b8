"""``POST /connect/token``: OAuth2 client credentials, as Volue's identity server answers it;
and :func:`grant_token`, which both token endpoints (this one and the Flex Market's
``/authtoken/v1/``) use: rate limits first (per source address and per client id, counted
whether the credentials are right or not), then the credentials, then the token."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from flexhub.platform.auth import AuthError, authenticate_client, issue_token
from flexhub.platform.context import PlatformContext
from flexhub.platform.deps import client_address, get_ctx, get_session
from flexhub.platform.errors import ApiError

router = APIRouter(tags=["Authentication"])


@router.post("/connect/token")
async def token(
    request: Request,
    ctx: PlatformContext = Depends(get_ctx),
    session: AsyncSession = Depends(get_session),
) -> JSONResponse:
    ctype = request.headers.get("content-type", "").lower()  # media types ignore case
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise ApiError(400, "the body must be application/x-www-form-urlencoded")
    try:
        form = await request.form()
    except HTTPException:  # the body limit (413)
        raise
    except Exception as exc:  # malformed form bodies
        raise ApiError(400, "the form body could not be read") from exc
    if form.get("grant_type") != "client_credentials":
        raise ApiError(400, "grant_type must be client_credentials", code="unsupported_grant_type")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic is not None:  # RFC 6749 2.3.1: client credentials in HTTP Basic
        if client_id is not None and client_id != basic[0]:
            raise ApiError(400, "client_id in the form differs from the Authorization header")
        client_id, secret = basic
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise ApiError(400, "client_id and client_secret are required")
    refusal = "invalid client credentials"
    access = await grant_token(ctx, session, request, client_id, secret, refusal)
    ttl = ctx.settings.token_ttl_seconds
    return JSONResponse(
        {"access_token": access, "token_type": "Bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )


async def grant_token(
    ctx: PlatformContext,
    session: AsyncSession,
    request: Request,
    client_id: str,
    secret: str,
    refusal: str,
) -> str:
    """An access token for these client credentials: 429 over a rate limit, 401 (``refusal``)
    for wrong credentials."""
    await ctx.limiter.token_request(client_id, client_address(request))
    try:
        partner = await authenticate_client(session, client_id, secret)
    except AuthError as exc:
        raise ApiError(401, refusal, code="invalid_client") from exc
    settings = ctx.settings
    ctx.token_keys.refresh()  # a rotation by `flexhub keys rotate --for tokens`
    return issue_token(ctx.token_keys, partner, settings.base_url, settings.token_ttl_seconds)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` from ``Authorization: Basic``, form-urlencoded per RFC 6749."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(400, "the Basic credentials are not valid base64") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ApiError(400, "the Basic credentials must be client_id:client_secret")
    return unquote_plus(client_id), unquote_plus(secret)

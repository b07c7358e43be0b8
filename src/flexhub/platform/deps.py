"""FastAPI dependencies: the platform context, a database session, the caller.

The caller is the partner a valid access token names, as the database has it now: an unknown
or disabled partner, or a token issued before the partner's tokens were revoked, is a 401; the
role comes from the partner, not the token; each call counts against the partner's rate limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import AuthError, Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.errors import ApiError, unauthorized


# Every dependency is ``async def``: FastAPI runs a plain ``def`` in a thread of its pool, a
# hand-over that cost more than the work (see README, "Request path performance").
async def get_ctx(request: Request) -> PlatformContext:
    return request.app.state.ctx


async def get_session(ctx: PlatformContext = Depends(get_ctx)) -> AsyncIterator[AsyncSession]:
    """A session per request; writes commit explicitly in services, anything else rolls back."""
    async with ctx.db.sessions() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


def client_address(request: Request) -> str:
    """The caller's address (a trusted proxy's X-Forwarded-For already applied, see app.py)."""
    return request.client.host if request.client else "unknown"


async def get_principal(request: Request, ctx: PlatformContext = Depends(get_ctx)) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("missing bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("authorization must be a bearer token")
    principal = await authenticate_token(ctx, token.strip())
    await ctx.limiter.api_call(principal.tenant_id)
    return principal


async def authenticate_token(ctx: PlatformContext, token: str) -> Principal:
    """The partner an access token stands for, as the database has it now: 401 when the token
    is invalid, revoked, or its partner gone or disabled."""
    try:
        claims = ctx.tokens.verify(token)  # signature and claims cached until the token expires
    except AuthError as exc:
        raise unauthorized(str(exc)) from exc
    partner = await ctx.partners.get(claims.partner_id)
    if partner is not None and claims.version > partner.token_version:
        # issued after the cached entry was read (a revocation raised the version): re-read
        ctx.partners.invalidate(partner.id)
        partner = await ctx.partners.get(claims.partner_id)
    if partner is None:
        raise unauthorized("the token's partner does not exist")
    if partner.disabled:
        raise unauthorized("the partner is disabled")
    if claims.version != partner.token_version:
        raise unauthorized("the token has been revoked")
    return Principal(tenant_id=partner.id, role=partner.role, name=partner.name)


def require_role(*roles: str):
    async def dependency(principal: Principal = Depends(get_principal)) -> Principal:
        if principal.role not in roles and principal.role != "admin":
            raise ApiError(403, f"this endpoint is for the role(s): {', '.join(roles)}")
        return principal

    return dependency


provider = require_role("provider")
system_operator = require_role("system_operator")

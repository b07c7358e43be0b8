"""FastAPI dependencies: the platform context, a database session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import AuthError, Principal, verify_token
from flexhub.platform.context import PlatformContext
from flexhub.platform.errors import ApiError, unauthorized


def get_ctx(request: Request) -> PlatformContext:
    return request.app.state.ctx


async def get_session(ctx: PlatformContext = Depends(get_ctx)) -> AsyncIterator[AsyncSession]:
    """A session per request; writes commit explicitly in services, anything else rolls back."""
    async with ctx.db.sessions() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


def get_principal(request: Request, ctx: PlatformContext = Depends(get_ctx)) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("missing bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("authorization must be a bearer token")
    try:
        return verify_token(ctx.keys, token.strip())
    except AuthError as exc:
        raise unauthorized(str(exc)) from exc


def require_role(*roles: str):
    def dependency(principal: Principal = Depends(get_principal)) -> Principal:
        if principal.role not in roles and principal.role != "admin":
            raise ApiError(403, f"this endpoint is for the role(s): {', '.join(roles)}")
        return principal

    return dependency


provider = require_role("provider")
system_operator = require_role("system_operator")

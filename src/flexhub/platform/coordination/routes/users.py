"""Energy Coordination routes: users (400s are bare JSON strings).

``/users/batch`` is declared before ``/users/{userId}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.coordination.schemas.assets import (
    PostUserRequest,
    PostUsersBatchRequest,
    path_id,
    user_wire,
)
from flexhub.platform.coordination.schemas.common import Page, page_query
from flexhub.platform.coordination.services import users as service
from flexhub.platform.deps import get_session, provider

router = APIRouter(tags=["User"])


@router.get("/users")
async def get_users(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    rows, total = await service.list_users(session, principal.tenant_id, paging.number, paging.size)
    return paging.body("users", [user_wire(u.user_id) for u in rows], total)


@router.post("/users", status_code=201)
async def post_user(
    body: PostUserRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    users = await service.create_users(session, principal.tenant_id, [body.userId], field="userId")
    return user_wire(users[0].user_id)


@router.post("/users/batch", status_code=201)
async def post_users(
    body: PostUsersBatchRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    ids = [u.userId for u in body.users]
    users = await service.create_users(session, principal.tenant_id, ids, field="users")
    return {"users": [user_wire(u.user_id) for u in users]}


@router.get("/users/{userId}")
async def get_user(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    user = await service.require_user(session, principal.tenant_id, user_id)
    return user_wire(user.user_id)


@router.delete("/users/{userId}", status_code=204, response_class=Response)
async def delete_user(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    user_id = path_id(userId, "User")
    await service.delete_user(session, principal.tenant_id, user_id)
    return Response(status_code=204)

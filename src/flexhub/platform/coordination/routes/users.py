"""Energy Coordination routes: users (400s are bare JSON strings).

``/users/batch`` is declared before ``/users/{userId}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.coordination.batch import batch_ceiling, check_size
from flexhub.platform.coordination.paging import Page, page_query
from flexhub.platform.coordination.schemas.paths import path_id
from flexhub.platform.coordination.services import users as service
from flexhub.platform.deps import get_session, provider
from flexhub.wire.coordination.users import (
    GetUserResponse,
    GetUsersResponse,
    PostUserRequest,
    PostUsersBatchRequest,
    PostUsersBatchResponse,
)

router = APIRouter(tags=["User"])


@router.get("/users", response_model=GetUsersResponse)
async def get_users(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUsersResponse:
    users, total = await service.list_users(
        session, principal.tenant_id, paging.number, paging.size
    )
    return GetUsersResponse(pagination=paging.pagination(total), users=users)


@router.post("/users", status_code=201, response_model=GetUserResponse)
async def post_user(
    body: PostUserRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserResponse:
    users = await service.create_users(session, principal.tenant_id, [body.userId], field="userId")
    return users[0]


@router.post("/users/batch", status_code=201, response_model=PostUsersBatchResponse)
async def post_users(
    body: PostUsersBatchRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ceiling: int = Depends(batch_ceiling),
) -> PostUsersBatchResponse:
    check_size(body.users, "users", ceiling)
    ids = [u.userId for u in body.users]
    users = await service.create_users(session, principal.tenant_id, ids, field="users")
    return PostUsersBatchResponse(users=users)


@router.get("/users/{userId}", response_model=GetUserResponse)
async def get_user(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserResponse:
    return await service.get_user(session, principal.tenant_id, path_id(userId, "User"))


@router.delete("/users/{userId}", status_code=204, response_class=Response)
async def delete_user(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.delete_user(session, principal.tenant_id, path_id(userId, "User"))
    return Response(status_code=204)

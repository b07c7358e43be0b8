"""Users: a partner's customers, by partner-assigned id."""

from __future__ import annotations

from pydantic import BaseModel, Field

from flexhub.wire.coordination.common import ApiPagination, Id, Request

MAX_BATCH = 1000


class PostUserRequest(Request):
    userId: Id


class PostUsersBatchRequest(Request):
    users: list[PostUserRequest] = Field(max_length=MAX_BATCH)


class GetUserResponse(BaseModel):
    userId: str


class GetUsersResponse(BaseModel):
    pagination: ApiPagination
    users: list[GetUserResponse]


class PostUsersBatchResponse(BaseModel):
    users: list[GetUserResponse]

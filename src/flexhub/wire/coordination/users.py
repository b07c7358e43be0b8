"""Users: a partner's customers, by partner-assigned id."""

from __future__ import annotations

from pydantic import BaseModel

from flexhub.wire.coordination.common import ApiPagination, Id, Request

# Batch lists carry no ceiling of their own: the platform applies a configurable one
# (FLEXHUB_MAX_BATCH_ITEMS); a location's meter point list is capped here.
MAX_METERS = 1000


class PostUserRequest(Request):
    userId: Id


class PostUsersBatchRequest(Request):
    users: list[PostUserRequest]


class GetUserResponse(BaseModel):
    userId: str


class GetUsersResponse(BaseModel):
    pagination: ApiPagination
    users: list[GetUserResponse]


class PostUsersBatchResponse(BaseModel):
    users: list[GetUserResponse]

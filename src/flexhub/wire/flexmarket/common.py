"""Pieces every Flex Market body shares: the request base, DRF paging and the token exchange."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

NeedDirection = Literal["deficit", "excess", "import", "export"]
PowerType = Literal["active", "reactive"]
NEED_DIRECTIONS = {"active": ("deficit", "excess"), "reactive": ("import", "export")}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Body(BaseModel):
    """Base of every request body: unknown fields are refused, no type coercion. Types are
    checked here (strings stay strings, so that decimals and the SO's signed fields arrive
    exactly as sent); what each value means is the platform's to check, field by field."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Paginated(BaseModel, Generic[T]):
    """A list: ``?limit=`` (default 100, at most 1000) and ``?offset=``; ``next`` and
    ``previous`` are absolute URLs."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]


def decimal_field() -> Any:
    return Field(description="decimal string", examples=["1.500"])


def time_field() -> Any:
    return Field(description="ISO-8601 UTC", examples=["2026-06-02T16:00:00Z"])


class TokenIn(Body):
    client_id: str
    api_key: str


class TokenOut(BaseModel):
    token: str = Field(description="a JWT; send it as Authorization: Bearer <token>")

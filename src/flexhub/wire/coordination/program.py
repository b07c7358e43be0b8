"""The SPARK program: eligibility (of users and meter points), enrollment and the current
month's compensation."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from flexhub.wire.coordination.common import ApiPagination, Currency, Instant, ProblemType
from flexhub.wire.coordination.users import GetUserResponse


class GetEligibleUsersResponse(BaseModel):
    pagination: ApiPagination
    users: list[GetUserResponse]


class GetUserEligibilityResponse(BaseModel):
    userId: str
    isEligible: bool


class GetMpidEligibilityResponse(BaseModel):
    meterPointId: str
    isEligible: bool


class GetUserEnrollmentResponse(BaseModel):
    isEnrolled: bool
    userId: str
    enrollmentId: str | None
    enrollmentDate: Instant | None


class Period(BaseModel):
    from_: date = Field(alias="from")
    to: date

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class Problem(BaseModel):
    problemType: ProblemType
    message: str


class LocationCompensation(BaseModel):
    locationId: str
    meterPointIds: list[str]
    activeAmount: float
    blockedAmount: float
    currency: Currency
    problems: list[Problem]


class GetUserCompensationForCurrentMonthResponse(BaseModel):
    userId: str
    period: Period
    locationCompensations: list[LocationCompensation]

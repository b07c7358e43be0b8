"""Flex Market request bodies (snake_case). Types are checked here (strings stay strings, so
that decimals and the SO's signed fields reach the services exactly as sent); the meaning of
each value (decimal, UTC time, date, choice) is checked by the services, field by field."""

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """Base of every request body: unknown fields are refused, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)

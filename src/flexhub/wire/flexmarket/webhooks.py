"""Flex Market webhooks: the event types, subscriptions, the delivery log, the platform's
verification keys and the claims of a delivery.

A delivery is a compact JWS (``Content-Type: application/jwt``) signed by the platform; its
claims are :class:`WebhookClaims`. ``jti`` is the event's id: the same across retries and
subscriptions, so that a receiver can de-duplicate on it. ``data`` is the object exactly as the
REST API shows it to the provider (an instruction or an obligation)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from flexhub.wire.flexmarket.common import Body
from flexhub.wire.flexmarket.dispatches import InstructionOut
from flexhub.wire.flexmarket.obligations import ObligationOut

CONTENT_TYPE = "application/jwt"
INSTRUCTION_EVENTS = (
    "dispatch_instruction.created",
    "dispatch_instruction.stopped",
    "dispatch_instruction.expired",
)
OBLIGATION_EVENTS = ("obligation.created", "obligation.updated")
EVENT_TYPES = (*INSTRUCTION_EVENTS, *OBLIGATION_EVENTS)
MAX_URL_LENGTH = 2000
_EVENTS_SCHEMA = {"items": {"type": "string", "enum": list(EVENT_TYPES)}, "minItems": 1}


class SubscriptionCreate(Body):
    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="http(s) URL to POST to",
        json_schema_extra={"format": "uri"},
    )
    events: list[str] = Field(json_schema_extra=_EVENTS_SCHEMA)
    active: bool = True


class SubscriptionPatch(Body):
    url: str | None = Field(None, max_length=MAX_URL_LENGTH, json_schema_extra={"format": "uri"})
    events: list[str] | None = Field(None, json_schema_extra=_EVENTS_SCHEMA)
    active: bool | None = None


class Subscription(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    created: str
    modified: str


class PublicKey(BaseModel):
    kid: str
    algorithm: str = Field(description="EdDSA, ES256 or RS256: the only algorithm to accept")
    public_key: str = Field(description="SubjectPublicKeyInfo PEM")


class Jwks(BaseModel):
    keys: list[dict[str, Any]]


class Delivery(BaseModel):
    id: int
    notification_id: str = Field(description="the outbox row: the same across retries")
    subscription_id: str
    event_id: str = Field(description="the jti of the delivered JWS")
    event: str
    url: str
    attempt: int
    attempted_at: str
    status_code: int | None
    duration_ms: int
    timed_out: bool
    succeeded: bool
    error: str | None


class WebhookClaims(BaseModel):
    iss: str
    iat: int
    exp: int
    jti: str
    event: str
    data: dict[str, Any]

    def instruction(self) -> InstructionOut:
        """``data`` of a ``dispatch_instruction.*`` event."""
        if self.event not in INSTRUCTION_EVENTS:
            raise ValueError(f"a {self.event} event carries no dispatch instruction")
        return InstructionOut.model_validate(self.data)

    def obligation(self) -> ObligationOut:
        """``data`` of an ``obligation.*`` event."""
        if self.event not in OBLIGATION_EVENTS:
            raise ValueError(f"a {self.event} event carries no obligation")
        return ObligationOut.model_validate(self.data)

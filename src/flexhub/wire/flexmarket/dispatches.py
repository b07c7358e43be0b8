"""Dispatch instructions: issued and stopped by a system operator, answered by the provider.

The fields a system operator signs (``flexhub.signing.SO_SIGNED_FIELDS``) are shown exactly as
it sent them, so that a provider can rebuild the document the SO signed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from flexhub.wire.flexmarket.common import Body, NeedDirection, PowerType, decimal_field, time_field

STATUSES = ("pending", "accepted", "rejected", "expired", "cancelled", "completed")


class DispatchIn(Body):
    so_reference: str = Field(description="the SO's own unique id for the instruction")
    obligation_id: str
    start: str = Field(description="ISO-8601 UTC, e.g. 2026-06-02T16:00:00Z")
    end: str = Field(description="ISO-8601 UTC")
    capacity: str = Field(description="MW, decimal string")
    need_direction: str
    instruction_type: str = Field("dispatch", description='"dispatch" (stops: the stop route)')
    signature: str | None = Field(None, description="base64url Ed25519 over the signed fields")
    signature_algorithm: str | None = Field(None, description='"Ed25519"')


class StopIn(Body):
    so_reference: str | None = Field(None, description='default: "<original>:stop"')
    start: str | None = Field(None, description="when the stop takes effect; default now")
    signature: str | None = None
    signature_algorithm: str | None = None


class AcceptIn(Body):
    pass


class RejectIn(Body):
    reason: str


class InstructionOut(BaseModel):
    id: str
    so_reference: str = Field(description="signed field, as the SO sent it")
    obligation_id: str = Field(description="signed field, as the SO sent it")
    competition_id: str
    flex_provider_id: str
    asset_ids: list[str]
    instruction_type: Literal["dispatch", "stop"] = Field(description="signed field")
    stops: str | None = Field(description="for a stop: the instruction it stops")
    stopped_by: str | None = Field(description="the stop instruction that stopped this one")
    start: str = Field(description="signed field, as the SO sent it (ISO-8601 UTC)")
    end: str = Field(description="signed field, as the SO sent it (ISO-8601 UTC)")
    hours: str = decimal_field()
    capacity: str = Field(description="MW; signed field, as the SO sent it")
    mwh: str = decimal_field()
    need_direction: NeedDirection = Field(description="signed field")
    power_type: PowerType
    status: Literal["pending", "accepted", "rejected", "expired", "cancelled", "completed"]
    respond_by: str | None = Field(description="accept or reject before this time")
    responded_at: str | None
    reason: str | None = Field(description="the provider's reason for a rejection")
    exceeds_declared_availability: bool
    signature: str | None = Field(description="the SO's signature, relayed untouched")
    signature_algorithm: str | None
    created: str = time_field()
    modified: str = time_field()


class WebhookDeliveryOut(BaseModel):
    """One notification of an event about the instruction to one of the provider's
    subscriptions (which ones is the provider's business: no ids or URLs)."""

    event: str = Field(examples=["dispatch_instruction.created"])
    event_id: str = Field(description="the jti of the delivered JWS")
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt_at: str | None = Field(description="when pending: the next try")
    completed_at: str | None = Field(description="when delivered, or given up as failed")


class SoInstructionOut(InstructionOut):
    """The SO's view: the instruction (with the provider's answer) and how the webhooks
    about it are being delivered to the provider."""

    webhook_deliveries: list[WebhookDeliveryOut]

"""SO dispatch and stop bodies, and the provider's answers."""

from __future__ import annotations

from pydantic import Field

from flexhub.platform.flexmarket.schemas import Body


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


class TokenIn(Body):
    client_id: str
    api_key: str

"""Flex Market routes: webhook verification keys, subscriptions and the delivery log.

``/webhook/v1/public-key/`` and ``/webhook/v1/jwks/`` are public (no token needed): they hold
only public keys, and a receiver must be able to fetch a rotated key without first getting a
token. A token, if sent, is ignored there. Everything else is for providers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.deps import get_ctx, get_session, provider
from flexhub.platform.flexmarket import webhooks as service
from flexhub.platform.flexmarket.fields import iso
from flexhub.platform.flexmarket.paging import Page, Paginated, page_params, paginated
from flexhub.platform.flexmarket.publish import EVENT_TYPES
from flexhub.platform.flexmarket.routes.common import ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.schemas import Body
from flexhub.store.delivery import DeliveryAttempt
from flexhub.store.flexmarket_webhooks import FmSubscription

router = APIRouter(tags=["Webhooks"])

_EVENTS_SCHEMA = {"items": {"type": "string", "enum": list(EVENT_TYPES)}, "minItems": 1}


# --- wire models --------------------------------------------------------------------------------


class SubscriptionCreate(Body):
    url: str = Field(
        max_length=service.MAX_URL_LENGTH,
        description="http(s) URL to POST to",
        json_schema_extra={"format": "uri"},
    )
    events: list[str] = Field(json_schema_extra=_EVENTS_SCHEMA)
    active: bool = True


class SubscriptionPatch(Body):
    url: str | None = Field(
        None, max_length=service.MAX_URL_LENGTH, json_schema_extra={"format": "uri"}
    )
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


def _subscription(sub: FmSubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "events": list(sub.events),
        "active": sub.active,
        "created": iso(sub.created),
        "modified": iso(sub.modified),
    }


def _delivery(a: DeliveryAttempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "notification_id": a.outbox_id,
        "subscription_id": a.subscription_id,
        "event_id": a.event_id,
        "event": a.event_type,
        "url": a.url,
        "attempt": a.attempt,
        "attempted_at": iso(a.attempted_at),
        "status_code": a.status_code,
        "duration_ms": a.duration_ms,
        "timed_out": a.timed_out,
        "succeeded": a.succeeded,
        "error": a.error,
    }


# --- keys (public) ------------------------------------------------------------------------------


@router.get("/webhook/v1/public-key/", response_model=PublicKey)
async def get_public_key(ctx: PlatformContext = Depends(get_ctx)) -> dict[str, Any]:
    """The key that signs webhook deliveries now. No token needed."""
    return service.public_key(ctx.keys)


@router.get("/webhook/v1/jwks/", response_model=Jwks)
async def get_jwks(ctx: PlatformContext = Depends(get_ctx)) -> dict[str, Any]:
    """Every key a delivery may carry: the current one and recently retired ones. No token."""
    return service.jwks(ctx.keys)


# --- subscriptions ------------------------------------------------------------------------------


@router.get("/webhook/v1/subscriptions/", response_model=Paginated[Subscription], responses=ERRORS)
async def list_subscriptions(
    request: Request,
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    rows, count = await service.list_subscriptions(session, principal.tenant_id, page)
    return paginated(request, [_subscription(s) for s in rows], count, page)


@router.post(
    "/webhook/v1/subscriptions/", status_code=201, response_model=Subscription, responses=ERRORS
)
async def create_subscription(
    body: SubscriptionCreate,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    sub = await service.create_subscription(
        session, principal.tenant_id, body.url, body.events, body.active
    )
    return _subscription(sub)


@router.get(
    "/webhook/v1/subscriptions/{subscription_id}/",
    response_model=Subscription,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_subscription(
    subscription_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    return _subscription(
        await service.get_subscription(session, principal.tenant_id, subscription_id)
    )


@router.patch(
    "/webhook/v1/subscriptions/{subscription_id}/",
    response_model=Subscription,
    responses={**ERRORS, **NOT_FOUND},
)
async def update_subscription(
    subscription_id: str,
    body: SubscriptionPatch,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    sub = await service.update_subscription(
        session, principal.tenant_id, subscription_id, **changes
    )
    return _subscription(sub)


@router.delete(
    "/webhook/v1/subscriptions/{subscription_id}/",
    status_code=204,
    response_class=Response,
    responses={**ERRORS, **NOT_FOUND},
)
async def delete_subscription(
    subscription_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.delete_subscription(session, principal.tenant_id, subscription_id)
    return Response(status_code=204)


# --- delivery log -------------------------------------------------------------------------------


@router.get("/webhook/v1/deliveries/", response_model=Paginated[Delivery], responses=ERRORS)
async def list_deliveries(
    request: Request,
    subscription_id: str | None = Query(None, description="only this subscription's attempts"),
    event_id: str | None = Query(None, description="only the attempts to deliver this event"),
    page: Page = Depends(page_params),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    """Every delivery attempt of the caller's webhooks, newest first."""
    rows, count = await service.list_deliveries(
        session,
        principal.tenant_id,
        page,
        subscription_id=subscription_id,
        event_id=event_id,
    )
    return paginated(request, [_delivery(a) for a in rows], count, page)

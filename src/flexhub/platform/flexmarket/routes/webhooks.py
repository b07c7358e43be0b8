"""Flex Market routes: webhook verification keys, subscriptions and the delivery log.

``/webhook/v1/public-key/`` and ``/webhook/v1/jwks/`` are public (no token needed): they hold
only public keys, and a receiver must be able to fetch a rotated key without first getting a
token. A token, if sent, is ignored there. Everything else is for providers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.deps import get_ctx, get_session, provider
from flexhub.platform.flexmarket.paging import Page, page_params, paginated
from flexhub.platform.flexmarket.routes.responses import ERRORS, NOT_FOUND
from flexhub.platform.flexmarket.services import webhooks as service
from flexhub.wire.flexmarket.common import Paginated
from flexhub.wire.flexmarket.webhooks import (
    Delivery,
    Jwks,
    PublicKey,
    Subscription,
    SubscriptionCreate,
    SubscriptionPatch,
)

router = APIRouter(tags=["Webhooks"])


# --- keys (public) ------------------------------------------------------------------------------


@router.get("/webhook/v1/public-key/", response_model=PublicKey)
async def get_public_key(ctx: PlatformContext = Depends(get_ctx)) -> PublicKey:
    """The key that signs webhook deliveries now. No token needed."""
    return service.public_key(ctx.keys)


@router.get("/webhook/v1/jwks/", response_model=Jwks)
async def get_jwks(ctx: PlatformContext = Depends(get_ctx)) -> Jwks:
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
    results, count = await service.list_subscriptions(session, principal.tenant_id, page)
    return paginated(request, results, count, page)


@router.post(
    "/webhook/v1/subscriptions/", status_code=201, response_model=Subscription, responses=ERRORS
)
async def create_subscription(
    body: SubscriptionCreate,
    ctx: PlatformContext = Depends(get_ctx),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Subscription:
    settings = ctx.settings
    return await service.create_subscription(
        session,
        principal.tenant_id,
        body,
        settings.webhook_allow_private,
        settings.max_webhooks_per_partner,
    )


@router.get(
    "/webhook/v1/subscriptions/{subscription_id}/",
    response_model=Subscription,
    responses={**ERRORS, **NOT_FOUND},
)
async def get_subscription(
    subscription_id: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Subscription:
    return await service.get_subscription(session, principal.tenant_id, subscription_id)


@router.patch(
    "/webhook/v1/subscriptions/{subscription_id}/",
    response_model=Subscription,
    responses={**ERRORS, **NOT_FOUND},
)
async def update_subscription(
    subscription_id: str,
    body: SubscriptionPatch,
    ctx: PlatformContext = Depends(get_ctx),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Subscription:
    allow_private = ctx.settings.webhook_allow_private
    return await service.update_subscription(
        session, principal.tenant_id, subscription_id, body, allow_private
    )


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
    results, count = await service.list_deliveries(
        session,
        principal.tenant_id,
        page,
        subscription_id=subscription_id,
        event_id=event_id,
    )
    return paginated(request, results, count, page)

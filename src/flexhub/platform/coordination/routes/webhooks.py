"""Energy Coordination routes: webhook subscriptions and delivery logs (400s: problem+json).

``/webhooks/logs`` is declared before ``/webhooks/{webhookId}`` so it is not taken for an id.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.paging import Page, page_query
from flexhub.platform.coordination.services import webhooks as service
from flexhub.platform.deps import get_ctx, get_session, provider
from flexhub.wire.coordination.webhooks import (
    GetWebhookNotificationLogByIdResponse,
    GetWebhookNotificationLogsResponse,
    GetWebhookResponse,
    GetWebhooksResponse,
    PatchWebhookRequest,
    PostWebhookRequest,
    PutWebhookRequest,
)

router = APIRouter(tags=["Webhooks"])
PROBLEM = errors.PROBLEM


@router.get("/webhooks", response_model=GetWebhooksResponse, openapi_extra=PROBLEM)
async def get_webhooks(
    principal: Principal = Depends(provider), session: AsyncSession = Depends(get_session)
) -> GetWebhooksResponse:
    return GetWebhooksResponse(webhooks=await service.list_webhooks(session, principal.tenant_id))


def _change(
    body: PostWebhookRequest | PutWebhookRequest | PatchWebhookRequest, ctx: PlatformContext
) -> service.WebhookChange:
    return service.checked_change(
        url=body.webhookUrl,
        types=body.notificationTypes,
        name=body.name,
        secret=body.webhookSecret,
        enabled=getattr(body, "enabled", None),
        allow_private=ctx.settings.webhook_allow_private,
        secrets=ctx.secrets,
    )


@router.post("/webhooks", status_code=201, response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def post_webhook(
    body: PostWebhookRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> GetWebhookResponse:
    return await service.create_webhook(
        session, principal.tenant_id, _change(body, ctx), ctx.settings.max_webhooks_per_partner
    )


@router.get(
    "/webhooks/logs", response_model=GetWebhookNotificationLogsResponse, openapi_extra=PROBLEM
)
async def get_webhook_logs(
    webhook_id: str | None = Query(None, alias="webhookId"),
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetWebhookNotificationLogsResponse:
    logs, total = await service.list_logs(
        session, principal.tenant_id, webhook_id, paging.number, paging.size
    )
    return GetWebhookNotificationLogsResponse(
        webhookNotificationLogs=logs, pagination=paging.pagination(total)
    )


@router.get(
    "/webhooks/logs/{notificationId}",
    response_model=GetWebhookNotificationLogByIdResponse,
    openapi_extra={**PROBLEM, **errors.NO_404},
)
async def get_webhook_log(
    notificationId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetWebhookNotificationLogByIdResponse:
    return await service.latest_attempt(session, principal.tenant_id, notificationId)


@router.get("/webhooks/{webhookId}", response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def get_webhook(
    webhookId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetWebhookResponse:
    return await service.get_webhook(session, principal.tenant_id, webhookId)


@router.put("/webhooks/{webhookId}", response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def put_webhook(
    webhookId: str,
    body: PutWebhookRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> GetWebhookResponse:
    change = _change(body, ctx)
    return await service.update_webhook(
        session, principal.tenant_id, webhookId, change, replace=True
    )


@router.patch("/webhooks/{webhookId}", response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def patch_webhook(
    webhookId: str,
    body: PatchWebhookRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> GetWebhookResponse:
    change = _change(body, ctx)
    return await service.update_webhook(
        session, principal.tenant_id, webhookId, change, replace=False
    )


# The document gives this 400 problem+json but the 404 a JSON string body.
@router.delete(
    "/webhooks/{webhookId}",
    status_code=204,
    response_class=Response,
    openapi_extra={**PROBLEM, **errors.STRING_404},
)
async def delete_webhook(
    webhookId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.delete_webhook(session, principal.tenant_id, webhookId)
    return Response(status_code=204)


@router.put(
    "/webhooks/{webhookId}/enabled",
    status_code=204,
    response_class=Response,
    openapi_extra=PROBLEM,
)
async def put_webhook_enabled(
    webhookId: str,
    enabled: bool = Query(...),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.set_enabled(session, principal.tenant_id, webhookId, enabled)
    return Response(status_code=204)

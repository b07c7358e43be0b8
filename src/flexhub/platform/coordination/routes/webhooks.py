"""Energy Coordination routes: webhook subscriptions and delivery logs (400s: problem+json).

``/webhooks/logs`` is declared before ``/webhooks/{webhookId}`` so it is not taken for an id.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.schemas.common import Page, page_query
from flexhub.platform.coordination.schemas.webhooks import (
    GetWebhookNotificationLogByIdResponse,
    GetWebhookNotificationLogsResponse,
    GetWebhookResponse,
    GetWebhooksResponse,
    PatchWebhookRequest,
    PostWebhookRequest,
    PutWebhookRequest,
    log_wire,
    webhook_wire,
)
from flexhub.platform.coordination.services import webhooks as service
from flexhub.platform.deps import get_ctx, get_session, provider

router = APIRouter(tags=["Webhooks"])
PROBLEM = errors.PROBLEM


@router.get("/webhooks", response_model=GetWebhooksResponse, openapi_extra=PROBLEM)
async def get_webhooks(
    principal: Principal = Depends(provider), session: AsyncSession = Depends(get_session)
) -> dict:
    hooks = await service.list_webhooks(session, principal.tenant_id)
    return {"webhooks": [webhook_wire(h) for h in hooks]}


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
    )


async def _update(
    session: AsyncSession,
    principal: Principal,
    webhook_id: str,
    change: service.WebhookChange,
    *,
    replace: bool,
) -> dict:
    hook = await service.update_webhook(
        session, principal.tenant_id, webhook_id, change, replace=replace
    )
    return webhook_wire(hook)


@router.post("/webhooks", status_code=201, response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def post_webhook(
    body: PostWebhookRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> dict:
    hook = await service.create_webhook(session, principal.tenant_id, _change(body, ctx))
    return webhook_wire(hook)


@router.get(
    "/webhooks/logs", response_model=GetWebhookNotificationLogsResponse, openapi_extra=PROBLEM
)
async def get_webhook_logs(
    webhook_id: str | None = Query(None, alias="webhookId"),
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    rows, total = await service.list_logs(
        session, principal.tenant_id, webhook_id, paging.number, paging.size
    )
    return paging.body("webhookNotificationLogs", [log_wire(a) for a in rows], total)


@router.get(
    "/webhooks/logs/{notificationId}",
    response_model=GetWebhookNotificationLogByIdResponse,
    openapi_extra={**PROBLEM, **errors.NO_404},
)
async def get_webhook_log(
    notificationId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    attempt = await service.latest_attempt(session, principal.tenant_id, notificationId)
    return {"webhookNotificationLog": log_wire(attempt), "notificationContent": attempt.body}


@router.get("/webhooks/{webhookId}", response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def get_webhook(
    webhookId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    return webhook_wire(await service.get_webhook(session, principal.tenant_id, webhookId))


@router.put("/webhooks/{webhookId}", response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def put_webhook(
    webhookId: str,  # noqa: N803
    body: PutWebhookRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> dict:
    change = _change(body, ctx)
    return await _update(session, principal, webhookId, change, replace=True)


@router.patch("/webhooks/{webhookId}", response_model=GetWebhookResponse, openapi_extra=PROBLEM)
async def patch_webhook(
    webhookId: str,  # noqa: N803
    body: PatchWebhookRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> dict:
    change = _change(body, ctx)
    return await _update(session, principal, webhookId, change, replace=False)


# The document gives this 400 problem+json but the 404 a JSON string body.
@router.delete(
    "/webhooks/{webhookId}",
    status_code=204,
    response_class=Response,
    openapi_extra={**PROBLEM, **errors.STRING_404},
)
async def delete_webhook(
    webhookId: str,  # noqa: N803
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
    webhookId: str,  # noqa: N803
    enabled: bool = Query(...),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.set_enabled(session, principal.tenant_id, webhookId, enabled)
    return Response(status_code=204)

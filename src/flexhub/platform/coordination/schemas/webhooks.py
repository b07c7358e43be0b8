"""Webhook wire models: subscriptions (``PostWebhookRequest``, ``PutWebhookRequest``,
``PatchWebhookRequest``, ``GetWebhookResponse``) and delivery logs
(``WebhookNotificationLog``, ``GetWebhookNotificationLogsResponse``,
``GetWebhookNotificationLogByIdResponse``). The secret is write-only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from flexhub.platform.coordination.events import iso
from flexhub.platform.coordination.schemas.common import Request
from flexhub.platform.coordination.schemas.events import ApiPagination, DateTimeText
from flexhub.store.coordination import EcWebhook
from flexhub.store.delivery import DeliveryAttempt

NotificationType = Literal[
    "Unknown",
    "PriceCurveCreated",
    "UserEligibilityUpdated",
    "LocationLPCRequested",
    "ResourceLPCRequested",
    "LPCReservationCreated",
]
WebhookStatus = Literal["New", "Healthy", "Unhealthy", "TimeOut"]


class PostWebhookRequest(Request):
    webhookUrl: str
    notificationTypes: list[NotificationType] | None = None
    name: str | None = None
    webhookSecret: str | None = None


class PutWebhookRequest(Request):
    webhookUrl: str
    notificationTypes: list[NotificationType] | None = None
    enabled: bool | None = None
    name: str | None = None
    webhookSecret: str | None = None


class PatchWebhookRequest(Request):
    """Every field is optional; a missing or null field leaves the stored value as it is."""

    webhookUrl: str | None = None
    notificationTypes: list[NotificationType] | None = None
    enabled: bool | None = None
    name: str | None = None
    webhookSecret: str | None = None


class GetWebhookResponse(BaseModel):
    webhookId: str
    webhookUrl: str
    name: str | None
    notificationTypes: list[NotificationType]
    enabled: bool
    status: WebhookStatus
    modifiedDate: DateTimeText
    createdDate: DateTimeText
    lastAnalyzedTimestamp: DateTimeText


class GetWebhooksResponse(BaseModel):
    webhooks: list[GetWebhookResponse]


class WebhookNotificationLog(BaseModel):
    webhookId: str
    tenantId: str
    partnerEventId: str
    notificationId: str
    notificationType: NotificationType
    notificationSent: DateTimeText
    sparkSignature: str | None
    webhookUrl: str
    requestTimeout: bool
    responseStatusCode: int | None
    requestDurationMs: int | None


class GetWebhookNotificationLogsResponse(BaseModel):
    webhookNotificationLogs: list[WebhookNotificationLog]
    pagination: ApiPagination


class GetWebhookNotificationLogByIdResponse(BaseModel):
    webhookNotificationLog: WebhookNotificationLog
    notificationContent: str


def webhook_wire(hook: EcWebhook) -> dict:
    return {
        "webhookId": hook.id,
        "webhookUrl": hook.url,
        "name": hook.name,
        "notificationTypes": list(hook.notification_types or []),
        "enabled": hook.enabled,
        "status": hook.status,
        "modifiedDate": iso(hook.modified_at),
        "createdDate": iso(hook.created_at),
        "lastAnalyzedTimestamp": iso(hook.last_analyzed_at),
    }


def log_wire(attempt: DeliveryAttempt) -> dict:
    return {
        "webhookId": attempt.subscription_id,
        "tenantId": attempt.tenant_id,
        "partnerEventId": attempt.event_id,
        "notificationId": attempt.outbox_id,
        "notificationType": attempt.event_type,
        "notificationSent": iso(attempt.attempted_at),
        "sparkSignature": attempt.signature,
        "webhookUrl": attempt.url,
        "requestTimeout": attempt.timed_out,
        "responseStatusCode": attempt.status_code,
        "requestDurationMs": attempt.duration_ms,
    }

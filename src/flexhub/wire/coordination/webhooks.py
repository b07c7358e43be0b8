"""Webhooks: subscriptions (the secret is write-only) and their delivery logs."""

from __future__ import annotations

from pydantic import BaseModel

from flexhub.wire.coordination.common import (
    ApiPagination,
    Instant,
    NotificationType,
    Request,
    WebhookStatus,
)


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
    modifiedDate: Instant
    createdDate: Instant
    lastAnalyzedTimestamp: Instant


class GetWebhooksResponse(BaseModel):
    webhooks: list[GetWebhookResponse]


class WebhookNotificationLog(BaseModel):
    webhookId: str
    tenantId: str
    partnerEventId: str
    notificationId: str
    notificationType: NotificationType
    notificationSent: Instant
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

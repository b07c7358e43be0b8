"""Webhook subscriptions and their delivery logs, scoped to one partner.

Rules: the URL must be an absolute http(s) URL (literal addresses the SSRF guard refuses are
refused here too); notification types come from the document's enum, ``Unknown`` excepted, and
default to all of them; the secret is stored but never returned; a new subscription, or one whose
URL changed, has status ``New``. Disabled or deleted subscriptions get no further deliveries: the
worker drops their pending notifications.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.coordination.events import CHANNEL, NOTIFICATION_TYPES
from flexhub.platform.delivery.ssrf import BlockedTarget, check_url
from flexhub.platform.errors import ApiError, bad_request, not_found
from flexhub.store.base import utcnow
from flexhub.store.coordination import EcWebhook
from flexhub.store.delivery import DeliveryAttempt

ALL_TYPES = list(NOTIFICATION_TYPES.values())
MAX_URL = 2000
MAX_NAME = 400
MAX_SECRET = 1000


@dataclass
class WebhookFields:
    """A validated subscription as PUT/POST give it (``enabled`` None = leave/default)."""

    url: str
    notification_types: list[str]
    name: str | None
    secret: str | None
    enabled: bool | None = None


def check_webhook_url(url: str, allow_private: bool) -> str:
    if len(url) > MAX_URL:
        raise bad_request(f"webhookUrl must be at most {MAX_URL} characters", "webhookUrl")
    if url != url.strip():
        raise bad_request("webhookUrl must not start or end with spaces", "webhookUrl")
    try:
        check_url(url, allow_private)
    except BlockedTarget as exc:
        message = str(exc).removeprefix("webhook URL ")
        raise bad_request(f"webhookUrl {message}", "webhookUrl") from None
    return url


def check_types(types: list[str] | None) -> list[str]:
    if types is None:
        return list(ALL_TYPES)
    if not types:
        raise bad_request(
            "notificationTypes must list at least one notification type (or be left out "
            "to subscribe to all of them)",
            "notificationTypes",
        )
    out: list[str] = []
    for i, value in enumerate(types):
        if value not in ALL_TYPES:
            raise bad_request(
                f"notificationTypes[{i}]: {value!r} is not a notification type one can "
                f"subscribe to; use one of {', '.join(ALL_TYPES)}",
                f"notificationTypes[{i}]",
            )
        if value not in out:
            out.append(value)
    return out


def check_name(name: str | None) -> str | None:
    if name is not None and len(name) > MAX_NAME:
        raise bad_request(f"name must be at most {MAX_NAME} characters", "name")
    return name


def check_secret(secret: str | None) -> str | None:
    """An empty secret means none (deliveries are then unsigned)."""
    if secret is not None and len(secret) > MAX_SECRET:
        raise bad_request(f"webhookSecret must be at most {MAX_SECRET} characters", "webhookSecret")
    return secret or None


def full_fields(
    *,
    url: str,
    types: list[str] | None,
    name: str | None,
    secret: str | None,
    enabled: bool | None,
    allow_private: bool,
) -> WebhookFields:
    return WebhookFields(
        url=check_webhook_url(url, allow_private),
        notification_types=check_types(types),
        name=check_name(name),
        secret=check_secret(secret),
        enabled=enabled,
    )


async def list_webhooks(session: AsyncSession, tenant_id: str) -> list[EcWebhook]:
    rows = await session.scalars(
        select(EcWebhook)
        .where(EcWebhook.tenant_id == tenant_id)
        .order_by(EcWebhook.created_at, EcWebhook.id)
    )
    return list(rows.all())


async def get_webhook(session: AsyncSession, tenant_id: str, webhook_id: str) -> EcWebhook:
    hook = await session.scalar(
        select(EcWebhook).where(EcWebhook.tenant_id == tenant_id, EcWebhook.id == webhook_id)
    )
    if hook is None:
        raise not_found(f"Webhook {webhook_id}")
    return hook


async def create_webhook(session: AsyncSession, tenant_id: str, fields: WebhookFields) -> EcWebhook:
    now = utcnow()
    hook = EcWebhook(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        url=fields.url,
        name=fields.name,
        secret=fields.secret,
        notification_types=fields.notification_types,
        enabled=True if fields.enabled is None else fields.enabled,
        status="New",
        created_at=now,
        modified_at=now,
        last_analyzed_at=now,
    )
    session.add(hook)
    await session.commit()
    return hook


async def replace_webhook(
    session: AsyncSession, tenant_id: str, webhook_id: str, fields: WebhookFields
) -> EcWebhook:
    """PUT: every field replaced; left-out optional fields take their defaults."""
    hook = await get_webhook(session, tenant_id, webhook_id)
    _set_url(hook, fields.url)
    hook.notification_types = fields.notification_types
    hook.name = fields.name
    hook.secret = fields.secret
    hook.enabled = True if fields.enabled is None else fields.enabled
    hook.modified_at = utcnow()
    await session.commit()
    return hook


async def patch_webhook(
    session: AsyncSession,
    tenant_id: str,
    webhook_id: str,
    *,
    url: str | None,
    types: list[str] | None,
    name: str | None,
    secret: str | None,
    enabled: bool | None,
    allow_private: bool,
) -> EcWebhook:
    """PATCH: only the fields given (non-null) change; an empty secret removes the secret."""
    checked_url = None if url is None else check_webhook_url(url, allow_private)
    checked_types = None if types is None else check_types(types)
    check_name(name)
    checked_secret = None if secret is None else check_secret(secret)
    hook = await get_webhook(session, tenant_id, webhook_id)
    if checked_url is not None:
        _set_url(hook, checked_url)
    if checked_types is not None:
        hook.notification_types = checked_types
    if name is not None:
        hook.name = name
    if secret is not None:
        hook.secret = checked_secret
    if enabled is not None:
        hook.enabled = enabled
    hook.modified_at = utcnow()
    await session.commit()
    return hook


async def set_enabled(
    session: AsyncSession, tenant_id: str, webhook_id: str, enabled: bool
) -> EcWebhook:
    hook = await get_webhook(session, tenant_id, webhook_id)
    if hook.enabled != enabled:
        hook.enabled = enabled
        hook.modified_at = utcnow()
    await session.commit()
    return hook


async def delete_webhook(session: AsyncSession, tenant_id: str, webhook_id: str) -> None:
    hook = await get_webhook(session, tenant_id, webhook_id)
    await session.delete(hook)
    await session.commit()


def _set_url(hook: EcWebhook, url: str) -> None:
    if hook.url != url:
        hook.url = url
        hook.status = "New"


# -- delivery logs -----------------------------------------------------------------------------


def _attempts(tenant_id: str):
    return select(DeliveryAttempt).where(
        DeliveryAttempt.tenant_id == tenant_id, DeliveryAttempt.channel == CHANNEL
    )


async def list_logs(
    session: AsyncSession, tenant_id: str, webhook_id: str | None, page: int, page_size: int
) -> tuple[list[DeliveryAttempt], int]:
    """Every delivery attempt to the partner's webhooks (optionally one), newest first."""
    query = _attempts(tenant_id)
    if webhook_id is not None:
        query = query.where(DeliveryAttempt.subscription_id == webhook_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows.all()), int(total or 0)


async def latest_attempt(
    session: AsyncSession, tenant_id: str, notification_id: str
) -> DeliveryAttempt:
    attempt = await session.scalar(
        _attempts(tenant_id)
        .where(DeliveryAttempt.outbox_id == notification_id)
        .order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
        .limit(1)
    )
    if attempt is None:
        raise ApiError(404, f"Notification {notification_id} was not found")
    return attempt

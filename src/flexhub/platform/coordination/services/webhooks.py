"""Webhook subscriptions and their delivery logs, scoped to one partner.

Rules: the URL must be an absolute http(s) URI (literal addresses the SSRF guard refuses are
refused here too); notification types come from the document's enum, ``Unknown`` excepted, and
default to all of them; the secret is stored but never returned; a new subscription, or one whose
URL changed, has status ``New``. PUT replaces every field it can, left-out ones taking their
defaults, except the write-only secret: a client cannot read it back to send it again, so a
PUT (like a PATCH) without one keeps it, and an empty one removes it. Disabled or deleted
subscriptions get no further deliveries: the worker drops their pending notifications. A
partner has at most ``FLEXHUB_MAX_WEBHOOKS_PER_PARTNER`` webhooks. Secrets are stored encrypted
(``platform/secretbox.py``). Enabling a webhook again starts its failure count afresh.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.events import CHANNEL
from flexhub.platform.delivery.ssrf import url_problem
from flexhub.platform.errors import ApiError, bad_request, not_found
from flexhub.platform.secretbox import SecretBox
from flexhub.platform.transactions import delete_existing
from flexhub.store.coordination import EcWebhook
from flexhub.store.delivery import DeliveryAttempt
from flexhub.wire.coordination.events import NOTIFICATION_TYPES
from flexhub.wire.coordination.webhooks import (
    GetWebhookNotificationLogByIdResponse,
    GetWebhookResponse,
    WebhookNotificationLog,
)

ALL_TYPES = list(NOTIFICATION_TYPES.values())
MAX_URL = 2000
MAX_NAME = 400
MAX_SECRET = 1000


@dataclass
class WebhookChange:
    """A checked request: what it sets; None = not given (``secret`` "" = remove it, otherwise
    it is the encrypted secret)."""

    url: str | None = None
    notification_types: list[str] | None = None
    name: str | None = None
    secret: str | None = None
    enabled: bool | None = None


def check_webhook_url(url: str, allow_private: bool) -> str:
    if len(url) > MAX_URL:
        raise bad_request(f"webhookUrl must be at most {MAX_URL} characters", "webhookUrl")
    if url != url.strip():
        raise bad_request("webhookUrl must not start or end with spaces", "webhookUrl")
    reason = url_problem(url, allow_private)
    if reason:
        raise bad_request(f"webhookUrl {reason}", "webhookUrl")
    return url


def check_types(types: list[str]) -> list[str]:
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
    if secret is not None and len(secret) > MAX_SECRET:
        raise bad_request(f"webhookSecret must be at most {MAX_SECRET} characters", "webhookSecret")
    return secret


def checked_change(
    *,
    url: str | None,
    types: list[str] | None,
    name: str | None,
    secret: str | None,
    enabled: bool | None,
    allow_private: bool,
    secrets: SecretBox,
) -> WebhookChange:
    """Every given field checked (400 naming it) before anything is read or written."""
    secret = check_secret(secret)
    return WebhookChange(
        url=None if url is None else check_webhook_url(url, allow_private),
        notification_types=None if types is None else check_types(types),
        name=check_name(name),
        secret=secrets.encrypt(secret) if secret else secret,
        enabled=enabled,
    )


async def list_webhooks(session: AsyncSession, tenant_id: str) -> list[GetWebhookResponse]:
    rows = await session.scalars(
        select(EcWebhook)
        .where(EcWebhook.tenant_id == tenant_id)
        .order_by(EcWebhook.created_at, EcWebhook.id)
    )
    return [mappers.webhook(h) for h in rows.all()]


async def get_webhook(session: AsyncSession, tenant_id: str, webhook_id: str) -> GetWebhookResponse:
    return mappers.webhook(await _find(session, tenant_id, webhook_id))


async def _find(session: AsyncSession, tenant_id: str, webhook_id: str) -> EcWebhook:
    hook = await session.scalar(
        select(EcWebhook).where(EcWebhook.tenant_id == tenant_id, EcWebhook.id == webhook_id)
    )
    if hook is None:
        raise webhook_missing(webhook_id)
    return hook


def webhook_missing(webhook_id: str) -> ApiError:
    return not_found(f"Webhook {webhook_id}")


async def create_webhook(
    session: AsyncSession, tenant_id: str, change: WebhookChange, max_webhooks: int
) -> GetWebhookResponse:
    count = await session.scalar(
        select(func.count()).select_from(EcWebhook).where(EcWebhook.tenant_id == tenant_id)
    )
    if (count or 0) >= max_webhooks:
        raise bad_request(f"a partner may have at most {max_webhooks} webhooks; delete one first")
    now = utcnow()
    hook = EcWebhook(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        status="New",
        created_at=now,
        last_analyzed_at=now,
    )
    _apply(hook, change, replace=True, now=now)
    session.add(hook)
    await session.commit()
    return mappers.webhook(hook)


async def update_webhook(
    session: AsyncSession, tenant_id: str, webhook_id: str, change: WebhookChange, *, replace: bool
) -> GetWebhookResponse:
    """PUT (``replace``): every field replaced, left-out optional ones by their defaults (not
    the secret); PATCH: only the fields given (non-null) change."""
    hook = await _find(session, tenant_id, webhook_id)
    _apply(hook, change, replace=replace)
    await session.commit()
    return mappers.webhook(hook)


def _apply(
    hook: EcWebhook, change: WebhookChange, *, replace: bool, now: datetime | None = None
) -> None:
    """Set what the change gives; with ``replace`` the rest takes its default (the secret
    excepted: it is write-only, see the module rules)."""
    if change.url is not None and change.url != hook.url:
        hook.url = change.url
        hook.status = "New"
    if replace or change.notification_types is not None:
        hook.notification_types = change.notification_types or list(ALL_TYPES)
    if replace or change.name is not None:
        hook.name = change.name
    if replace or change.enabled is not None:
        enabled = True if change.enabled is None else change.enabled
        if enabled and not hook.enabled:
            hook.failing_since = None
        hook.enabled = enabled
    if change.secret is not None:
        hook.secret = change.secret or None  # empty: no secret, deliveries unsigned
    hook.modified_at = now or utcnow()


async def set_enabled(
    session: AsyncSession, tenant_id: str, webhook_id: str, enabled: bool
) -> None:
    hook = await _find(session, tenant_id, webhook_id)
    if hook.enabled != enabled:
        hook.enabled = enabled
        hook.failing_since = None
        hook.modified_at = utcnow()
    await session.commit()


async def delete_webhook(session: AsyncSession, tenant_id: str, webhook_id: str) -> None:
    statement = delete(EcWebhook).where(
        EcWebhook.tenant_id == tenant_id, EcWebhook.id == webhook_id
    )
    await delete_existing(session, statement, webhook_missing(webhook_id))
    await session.commit()


# -- delivery logs -----------------------------------------------------------------------------


def _attempts(tenant_id: str):
    return select(DeliveryAttempt).where(
        DeliveryAttempt.tenant_id == tenant_id, DeliveryAttempt.channel == CHANNEL
    )


async def list_logs(
    session: AsyncSession, tenant_id: str, webhook_id: str | None, page: int, page_size: int
) -> tuple[list[WebhookNotificationLog], int]:
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
    return [mappers.log(a) for a in rows.all()], int(total or 0)


async def latest_attempt(
    session: AsyncSession, tenant_id: str, notification_id: str
) -> GetWebhookNotificationLogByIdResponse:
    """The newest attempt to deliver one notification, with the body it sent."""
    attempt = await session.scalar(
        _attempts(tenant_id)
        .where(DeliveryAttempt.outbox_id == notification_id)
        .order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
        .limit(1)
    )
    if attempt is None:
        raise ApiError(404, f"Notification {notification_id} was not found")
    return mappers.log_detail(attempt)

"""Flex Market webhook rules: a provider's subscriptions, its delivery log and the platform's
published verification keys. No HTTP here; errors are ``ApiError`` with the field named."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.delivery.ssrf import url_problem
from flexhub.platform.errors import bad_request
from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.events import CHANNEL
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.services.queries import one_or_404
from flexhub.platform.keys import KeyStore
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from flexhub.store.flexmarket_webhooks import FmEvent, FmSubscription
from flexhub.wire.flexmarket.dispatches import WebhookDeliveryOut
from flexhub.wire.flexmarket.webhooks import (
    EVENT_TYPES,
    MAX_URL_LENGTH,
    Delivery,
    Jwks,
    PublicKey,
    Subscription,
    SubscriptionCreate,
    SubscriptionPatch,
)

# --- keys -------------------------------------------------------------------------------------


def public_key(keys: KeyStore) -> PublicKey:
    """The key that signs deliveries now (a rotation by another process is picked up first)."""
    keys.refresh()
    key = keys.current
    return mappers.public_key(key.kid, key.algorithm, key.public_pem)


def jwks(keys: KeyStore) -> Jwks:
    """Every key a delivery may still carry: the current one and those in their grace period."""
    keys.refresh()
    return Jwks.model_validate(keys.jwks())


# --- subscriptions ----------------------------------------------------------------------------


def _check_url(url: Any, allow_private: bool) -> str:
    if url is None:
        raise bad_request("This field may not be null.", "url")
    url = url.strip()
    if not url:
        raise bad_request("This field may not be blank.", "url")
    if len(url) > MAX_URL_LENGTH:
        raise bad_request(f"Ensure this field has no more than {MAX_URL_LENGTH} characters.", "url")
    reason = url_problem(url, allow_private)
    if reason:
        raise bad_request(f"Enter a valid URL: it {reason}.", "url")
    return url


def _check_events(events: Any) -> list[str]:
    if events is None:
        raise bad_request("This field may not be null.", "events")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise bad_request(
            f"Unknown event type(s): {', '.join(map(repr, unknown))}. "
            f"Choose from: {', '.join(EVENT_TYPES)}.",
            "events",
        )
    if not events:
        raise bad_request("Subscribe to at least one event type.", "events")
    return list(dict.fromkeys(events))  # de-duplicated, in the order given


def _check_active(active: Any) -> bool:
    if active is None:
        raise bad_request("This field may not be null.", "active")
    return bool(active)


async def create_subscription(
    session: AsyncSession,
    tenant_id: str,
    body: SubscriptionCreate,
    allow_private: bool,
    max_subscriptions: int,
) -> Subscription:
    """A new subscription; a provider has at most ``max_subscriptions``."""
    url, events, active = (
        _check_url(body.url, allow_private),
        _check_events(body.events),
        _check_active(body.active),
    )
    mine = select(func.count()).where(FmSubscription.tenant_id == tenant_id)
    count = await session.scalar(mine.select_from(FmSubscription))
    if (count or 0) >= max_subscriptions:
        raise bad_request(
            f"A provider may have at most {max_subscriptions} webhook subscriptions; "
            "delete one first.",
            "non_field_errors",
        )
    sub = FmSubscription(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        url=url,
        events=events,
        active=active,
    )
    sub.created = sub.modified = utcnow()
    session.add(sub)
    await session.commit()
    return mappers.subscription(sub)


async def _find(session: AsyncSession, tenant_id: str, sub_id: str) -> FmSubscription:
    query = select(FmSubscription).where(
        FmSubscription.tenant_id == tenant_id, FmSubscription.id == sub_id
    )
    return await one_or_404(session, query, "Subscription")


async def get_subscription(session: AsyncSession, tenant_id: str, sub_id: str) -> Subscription:
    return mappers.subscription(await _find(session, tenant_id, sub_id))


async def list_subscriptions(
    session: AsyncSession, tenant_id: str, page: Page
) -> tuple[list[Subscription], int]:
    """Oldest first, so that paging is stable while new subscriptions are added."""
    query = (
        select(FmSubscription)
        .where(FmSubscription.tenant_id == tenant_id)
        .order_by(FmSubscription.created, FmSubscription.id)
    )
    rows, count = await fetch(session, query, page)
    return [mappers.subscription(s) for s in rows], count


async def update_subscription(
    session: AsyncSession,
    tenant_id: str,
    sub_id: str,
    body: SubscriptionPatch,
    allow_private: bool,
) -> Subscription:
    """Change only the fields sent; every one is checked before anything is written."""
    sub = await _find(session, tenant_id, sub_id)
    given = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "url" in given:
        changes["url"] = _check_url(given["url"], allow_private)
    if "events" in given:
        changes["events"] = _check_events(given["events"])
    if "active" in given:
        changes["active"] = _check_active(given["active"])
    if changes.get("active") and not sub.active:
        sub.failing_since = None  # switched on again: its failures count afresh
    for name, value in changes.items():
        setattr(sub, name, value)
    if changes:
        sub.modified = utcnow()
    await session.commit()
    return mappers.subscription(sub)


async def delete_subscription(session: AsyncSession, tenant_id: str, sub_id: str) -> None:
    """Pending notifications to it are dropped by the worker; its delivery log stays."""
    sub = await _find(session, tenant_id, sub_id)
    await session.delete(sub)
    await session.commit()


# --- delivery log -----------------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    tenant_id: str,
    page: Page,
    subscription_id: str | None = None,
    event_id: str | None = None,
) -> tuple[list[Delivery], int]:
    """Every attempt to deliver the tenant's Flex Market events, newest first."""
    query = select(DeliveryAttempt).where(
        DeliveryAttempt.tenant_id == tenant_id, DeliveryAttempt.channel == CHANNEL
    )
    if subscription_id is not None:
        query = query.where(DeliveryAttempt.subscription_id == subscription_id)
    if event_id is not None:
        query = query.where(DeliveryAttempt.event_id == event_id)
    query = query.order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
    rows, count = await fetch(session, query, page)
    return [mappers.delivery(a) for a in rows], count


async def delivery_state(
    session: AsyncSession, tenant_id: str, subject_id: str, since: datetime
) -> list[WebhookDeliveryOut]:
    """How the webhooks about one object (events whose ``data.id`` is ``subject_id``,
    published to ``tenant_id`` from ``since`` on) are being delivered: one entry per
    notification (event and subscription), oldest first. For another tenant to read (the SO
    of an instruction), so without the subscriptions' ids or URLs."""
    events = select(FmEvent.id).where(
        FmEvent.tenant_id == tenant_id,
        FmEvent.created >= since,
        FmEvent.data["id"].as_string() == subject_id,
    )
    rows = await session.scalars(
        select(OutboxRow)
        .where(
            OutboxRow.tenant_id == tenant_id,
            OutboxRow.channel == CHANNEL,
            OutboxRow.event_id.in_(events),
        )
        .order_by(OutboxRow.created_at, OutboxRow.id)
    )
    return [mappers.delivery_state(row) for row in rows]

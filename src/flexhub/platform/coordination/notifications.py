"""The Energy Coordination delivery channel: ``EventNotification`` bodies signed with
``X-Payload-Signature`` (Base64 HMAC-SHA256 of the raw body under the webhook's secret)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import RetryPolicy, Settings
from flexhub.platform.coordination.events import CHANNEL, iso
from flexhub.platform.delivery.channels import Prepared, register
from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, payload_signature
from flexhub.store.base import utcnow
from flexhub.store.coordination import EcEvent, EcWebhook
from flexhub.store.delivery import DeliveryAttempt, OutboxRow

if TYPE_CHECKING:
    from flexhub.platform.context import PlatformContext


class CoordinationChannel:
    name = CHANNEL

    def retry_policy(self, settings: Settings) -> RetryPolicy:
        return settings.ec_retry

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow], ctx: PlatformContext
    ) -> dict[str, Prepared | None]:
        hook_ids = {r.subscription_id for r in rows}
        event_ids = {r.event_id for r in rows}
        hooks = {
            h.id: h
            for h in (
                await session.scalars(select(EcWebhook).where(EcWebhook.id.in_(hook_ids)))
            ).all()
        }
        events = {
            e.id: e
            for e in (await session.scalars(select(EcEvent).where(EcEvent.id.in_(event_ids)))).all()
        }
        sent = iso(utcnow())
        out: dict[str, Prepared | None] = {}
        for row in rows:
            hook, event = hooks.get(row.subscription_id), events.get(row.event_id)
            if (
                hook is None
                or event is None
                or not hook.enabled
                or not hook.tenant_id == event.tenant_id == row.tenant_id
            ):
                out[row.id] = None  # gone, disabled, or (never written) another partner's
                continue
            body = json.dumps(
                {
                    "notificationId": row.id,
                    "eventId": event.id,
                    "eventCreatedAtUtc": iso(event.created_at),
                    "notificationSentUtc": sent,
                    "notificationType": row.event_type,
                    "payload": event.payload,
                },
                separators=(",", ":"),
            ).encode("utf-8")
            headers = {"Content-Type": "application/json"}
            signature = None
            if hook.secret:
                signature = payload_signature(hook.secret, body)
                headers[PAYLOAD_SIGNATURE_HEADER] = signature
            out[row.id] = Prepared(url=hook.url, body=body, headers=headers, signature=signature)
        return out

    async def record(
        self, session: AsyncSession, row: OutboxRow, attempt: DeliveryAttempt, final: bool
    ) -> None:
        hook = await session.get(EcWebhook, row.subscription_id)
        if hook is None:
            return
        if attempt.succeeded:
            hook.status = "Healthy"
        elif attempt.timed_out:
            hook.status = "TimeOut"
        else:
            hook.status = "Unhealthy"
        hook.last_analyzed_at = attempt.attempted_at


register(CoordinationChannel())

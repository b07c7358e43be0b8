"""The Energy Coordination delivery channel: ``EventNotification`` bodies signed with
``X-Payload-Signature`` (Base64 HMAC-SHA256 of the raw body under the webhook's secret, kept
encrypted and decrypted only here). The webhook's status follows its notifications: Healthy on a
success; Unhealthy (or TimeOut, when the last attempt timed out) only once a notification's
retries are exhausted; a webhook failing for days is disabled (``delivery/health.py``)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.config import RetryPolicy
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.events import CHANNEL, WEBHOOKS
from flexhub.platform.delivery.channel import Prepared, Result
from flexhub.platform.delivery.fanout import resolve
from flexhub.platform.delivery.health import track, track_many
from flexhub.platform.secretbox import SecretBox, SecretKeyError
from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, payload_signature
from flexhub.store.coordination import EcEvent, EcWebhook
from flexhub.store.delivery import OutboxRow

log = logging.getLogger("flexhub.delivery")


class CoordinationChannel:
    name = CHANNEL

    def __init__(
        self, retry: RetryPolicy, secrets: SecretBox, disable_after: timedelta = timedelta(days=3)
    ) -> None:
        self.retry = retry
        self.secrets = secrets
        self.disable_after = disable_after

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow]
    ) -> dict[str, Prepared | None]:
        targets = await resolve(session, rows, WEBHOOKS, EcEvent)
        sent = utcnow()
        out: dict[str, Prepared | None] = {}
        for row in rows:
            target = targets[row.id]
            if target is None:  # gone, disabled, or (never written) another partner's
                out[row.id] = None
                continue
            hook, event = target
            notification = mappers.notification(row, event, sent).model_dump(mode="json")
            body = json.dumps(notification, separators=(",", ":")).encode("utf-8")
            headers = {"Content-Type": "application/json"}
            signature = None
            if hook.secret:
                try:
                    secret = self.secrets.decrypt(hook.secret)
                except SecretKeyError:  # the key was lost: never send it unsigned
                    log.error("webhook %s: no secret key decrypts its secret; dropped", hook.id)
                    out[row.id] = None
                    continue
                signature = payload_signature(secret, body)
                headers[PAYLOAD_SIGNATURE_HEADER] = signature
            out[row.id] = Prepared(url=hook.url, body=body, headers=headers, signature=signature)
        return out

    async def record(self, session: AsyncSession, results: list[Result]) -> None:
        """One UPDATE for the batch; webhooks with an exhausted notification one by one."""
        slow = await track_many(session, EcWebhook, results, {"status": "Healthy"})
        for row, attempt, final in slow:
            hook = await session.get(EcWebhook, row.subscription_id)
            if hook is None:
                continue
            if attempt.succeeded:
                hook.status = "Healthy"
            elif final:
                hook.status = "TimeOut" if attempt.timed_out else "Unhealthy"
            if track(hook, attempt, final, self.disable_after, "enabled"):
                hook.modified_at = attempt.attempted_at
            hook.last_analyzed_at = attempt.attempted_at

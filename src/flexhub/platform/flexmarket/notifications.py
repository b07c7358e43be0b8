"""The Flex Market delivery channel: the twin of the Energy Coordination channel, with a compact
JWS body (``Content-Type: application/jwt``) instead of an HMAC header.

Every attempt is signed afresh with the platform's current key (a rotation made by another
process is picked up first), so ``iat``/``exp`` are those of the attempt; ``jti`` is the event
id and stays the same across retries and subscriptions, so receivers can de-duplicate on it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import RetryPolicy, Settings
from flexhub.platform.delivery.channels import Prepared, register
from flexhub.platform.delivery.fanout import resolve
from flexhub.platform.flexmarket.publish import CHANNEL, SUBSCRIPTIONS
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from flexhub.store.flexmarket_webhooks import FmEvent

if TYPE_CHECKING:
    from flexhub.platform.context import PlatformContext

CONTENT_TYPE = "application/jwt"
TOKEN_LIFETIME_SECONDS = 300


def event_claims(event: FmEvent, issuer: str, now: int) -> dict[str, Any]:
    return {
        "iss": issuer,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "jti": event.id,
        "event": event.event_type,
        "data": event.data,
    }


class FlexMarketChannel:
    name = CHANNEL

    def retry_policy(self, settings: Settings) -> RetryPolicy:
        return settings.fm_retry

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow], ctx: PlatformContext
    ) -> dict[str, Prepared | None]:
        targets = await resolve(session, rows, SUBSCRIPTIONS, FmEvent)
        ctx.keys.refresh()
        now = int(time.time())
        out: dict[str, Prepared | None] = {}
        for row in rows:
            target = targets[row.id]
            if target is None:
                out[row.id] = None
                continue
            sub, event = target
            token = ctx.keys.sign(event_claims(event, ctx.settings.base_url, now))
            out[row.id] = Prepared(
                url=sub.url,
                body=token.encode("ascii"),
                headers={"Content-Type": CONTENT_TYPE},
                signature=token.rsplit(".", 1)[1],
            )
        return out

    async def record(
        self, session: AsyncSession, row: OutboxRow, attempt: DeliveryAttempt, final: bool
    ) -> None:
        """Nothing to keep on the subscription: its health is the delivery log."""
        return None


register(FlexMarketChannel())

"""The Flex Market delivery channel: each notification is a compact JWS
(``Content-Type: application/jwt``) of the event's claims, signed by the platform.

Every attempt is signed afresh with the platform's current key (a rotation made by another
process is picked up first), so ``iat``/``exp`` are those of the attempt; ``jti`` is the event
id and stays the same across retries and subscriptions, so receivers can de-duplicate on it.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import RetryPolicy
from flexhub.platform.delivery.channel import Prepared, Result
from flexhub.platform.delivery.fanout import resolve
from flexhub.platform.delivery.health import track, track_many
from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.events import CHANNEL, SUBSCRIPTIONS
from flexhub.platform.keys import KeyStore
from flexhub.store.delivery import OutboxRow
from flexhub.store.flexmarket_webhooks import FmEvent, FmSubscription
from flexhub.wire.flexmarket.webhooks import CONTENT_TYPE


class FlexMarketChannel:
    name = CHANNEL

    def __init__(
        self,
        keys: KeyStore,
        issuer: str,
        retry: RetryPolicy,
        disable_after: timedelta = timedelta(days=3),
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.retry = retry
        self.disable_after = disable_after

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow]
    ) -> dict[str, Prepared | None]:
        targets = await resolve(session, rows, SUBSCRIPTIONS, FmEvent)
        self.keys.refresh()
        now = int(time.time())
        out: dict[str, Prepared | None] = {}
        for row in rows:
            target = targets[row.id]
            if target is None:
                out[row.id] = None
                continue
            sub, event = target
            claims = mappers.claims(event, self.issuer, now)
            token = self.keys.sign(claims.model_dump(mode="json"))
            out[row.id] = Prepared(
                url=sub.url,
                body=token.encode("ascii"),
                headers={"Content-Type": CONTENT_TYPE},
                signature=token.rsplit(".", 1)[1],
            )
        return out

    async def record(self, session: AsyncSession, results: list[Result]) -> None:
        """Its health is the delivery log; a subscription failing for days is switched off.
        One UPDATE for the batch; subscriptions with an exhausted notification one by one."""
        for row, attempt, final in await track_many(session, FmSubscription, results):
            sub = await session.get(FmSubscription, row.subscription_id)
            if sub is not None and track(sub, attempt, final, self.disable_after, "active"):
                sub.modified = attempt.attempted_at

"""Helpers for the client tests: partners with credentials (and no token yet), a platform on
SQLite for them, a wall clock the test moves, and a retry policy that records its waits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flexhub.clients.retry import RetryPolicy
from flexhub.clock import utcnow
from flexhub.platform.auth import add_partner
from flexhub.platform.partners import find_partner, revoke_tokens
from flexhub.store.database import Database
from support.platform import EC, PlatformThread


@dataclass(frozen=True)
class Credentials:
    partner_id: str
    client_id: str
    secret: str


async def new_partner(db: Database, role: str = "provider") -> Credentials:
    async with db.session() as session:
        creds = await add_partner(session, f"{role}-{uuid.uuid4().hex[:8]}", role)
        await session.commit()
    return Credentials(creds.partner_id, creds.client_id, creds.client_secret)


async def revoke(db: Database, platform: PlatformThread, partner_id: str) -> None:
    """What ``flexhub partner revoke-tokens`` does: every token issued so far is refused."""
    async with db.session() as session:
        revoke_tokens(await find_partner(session, partner_id))
        await session.commit()
    platform.ctx.partners.invalidate(partner_id)


def ec_url(platform: PlatformThread) -> str:
    return platform.base_url + EC


class ManualClock:
    """A wall clock that stands still until the test moves it."""

    speed = 1.0

    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or utcnow()

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)

    def to_wall(self, duration: timedelta) -> float:
        return max(0.0, duration.total_seconds())

    async def sleep_until(self, when: datetime) -> None:
        self.at = max(self.at, when)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)


@dataclass
class RecordedWaits:
    """A ``RetryPolicy.sleep`` that records what the client would have waited (and waits
    nothing), so that a test sees the backoff without spending it."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    def policy(self, attempts: int = 4) -> RetryPolicy:
        return RetryPolicy(attempts=attempts, initial=0.5, max_wait=60.0, sleep=self)


async def until(probe, *, timeout: float = 15.0, every: float = 0.05):
    """Call ``probe()`` (async) until it returns something truthy; that value. For facts that
    become true shortly after an HTTP answer (a delivery log row written after the receiver
    answered); a deadline only so that a broken platform fails instead of hanging."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(every)

"""Partners as a running platform sees them, and what an operator does to them.

:class:`PartnerCache` answers, for a token's partner id, whether that partner exists, its role,
name, status and token version: read from the database and kept for a few seconds
(``FLEXHUB_PARTNER_CACHE_SECONDS``), dropped at once when this process changes the partner.
Other processes (``flexhub partner disable`` ...) are seen when the entry expires.

Disabling a partner, rotating its secret and revoking its tokens each raise its token version,
so every token issued before is refused from then on (enabling it again does not bring them
back).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import hash_secret
from flexhub.store.database import Database
from flexhub.store.partners import Partner


@dataclass(frozen=True)
class PartnerState:
    id: str
    name: str
    role: str
    disabled: bool
    token_version: int


class PartnerCache:
    def __init__(self, db: Database, ttl_seconds: float) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[float, PartnerState | None]] = {}

    async def get(self, partner_id: str) -> PartnerState | None:
        """The partner, or None when there is no such partner."""
        now = time.monotonic()
        entry = self._entries.get(partner_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        async with self.db.session() as session:
            row = await session.get(Partner, partner_id)
            state = None if row is None else _state(row)
        if len(self._entries) > 10_000:  # unknown ids must not grow it without bound
            self._entries.clear()
        self._entries[partner_id] = (now + self.ttl, state)
        return state

    def invalidate(self, partner_id: str | None = None) -> None:
        if partner_id is None:
            self._entries.clear()
        else:
            self._entries.pop(partner_id, None)


def _state(row: Partner) -> PartnerState:
    return PartnerState(row.id, row.name, row.role, bool(row.disabled), row.token_version or 0)


class NoSuchPartner(Exception):
    pass


async def find_partner(session: AsyncSession, ref: str) -> Partner:
    """A partner by id, client id or name."""
    found = (
        await session.scalars(
            select(Partner).where(
                or_(Partner.id == ref, Partner.client_id == ref, Partner.name == ref)
            )
        )
    ).all()
    if len(found) != 1:
        raise NoSuchPartner(ref)
    return found[0]


def revoke_tokens(partner: Partner) -> None:
    """Every token issued so far is refused from now on."""
    partner.token_version = (partner.token_version or 0) + 1


def set_disabled(partner: Partner, disabled: bool) -> None:
    """A disabled partner gets no token and its tokens are refused; disabling revokes them."""
    if disabled and not partner.disabled:
        revoke_tokens(partner)
    partner.disabled = disabled


def rotate_secret(partner: Partner, revoke: bool = True) -> str:
    """A new client secret (returned once, stored hashed); the old one stops working at once
    and, unless told otherwise, so do the tokens issued with it."""
    secret = secrets.token_urlsafe(32)
    partner.secret_hash = hash_secret(secret)
    if revoke:
        revoke_tokens(partner)
    return secret

"""Platforms with the production guards on, for the security tests: each on its own SQLite file
and data directory, with private webhook targets refused and whatever limits a test sets."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import httpx

from flexhub.platform.auth import add_partner
from flexhub.store.database import Database
from support.databases import platform_settings
from support.platform import Partner, PlatformThread, fetch_token


def start_strict(tmp_dir, **overrides) -> PlatformThread:
    """A platform on a fresh SQLite file in ``tmp_dir``; webhooks to private addresses refused
    unless ``overrides`` say otherwise."""
    settings = platform_settings(
        f"sqlite+aiosqlite:///{tmp_dir}/flexhub.db",
        tmp_dir / "data",
        **{"webhook_allow_private": False, **overrides},
    )
    return PlatformThread(settings).start()


@asynccontextmanager
async def database_of(platform: PlatformThread):
    db = Database(platform.settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def partner_on(
    platform: PlatformThread, role: str = "provider", api: str = "", token: bool = True
) -> Partner:
    """A new partner of ``platform``; its client is rooted at ``api`` (closed by the caller)."""
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    async with database_of(platform) as db, db.session() as session:
        creds = await add_partner(session, name, role)
        await session.commit()
    access = (
        await fetch_token(platform.base_url, creds.client_id, creds.client_secret) if token else ""
    )
    client = httpx.AsyncClient(
        base_url=platform.base_url + api,
        headers={"Authorization": f"Bearer {access}"} if access else {},
        timeout=30,
    )
    return Partner(
        creds.partner_id, name, role, creds.client_id, creds.client_secret, access, client
    )

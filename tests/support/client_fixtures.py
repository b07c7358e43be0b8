"""Fixtures of the tests that use the clients (``tests/clients``, ``tests/sim``): one platform
on SQLite for the session (the clients speak HTTP: the storage behind it is the platform tests'
business), with the partner cache off so that a revocation shows at once. A conftest imports
them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from flexhub.store.database import Database
from support.databases import platform_settings
from support.platform import PlatformThread


@pytest.fixture(scope="session")
def client_platform(tmp_path_factory) -> Iterator[PlatformThread]:
    root = tmp_path_factory.mktemp("clients")
    settings = platform_settings(
        f"sqlite+aiosqlite:///{root}/flexhub.db", root / "data", partner_cache_seconds=0
    )
    running = PlatformThread(settings).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def client_db(client_platform: PlatformThread) -> AsyncIterator[Database]:
    db = Database(client_platform.settings.database_url)
    yield db
    await db.dispose()

"""The SSRF guard: with private targets not allowed, a delivery to loopback, by address or by a
name that resolves there, never leaves; the attempt is logged with the reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flexhub.platform.app import platform_channels
from flexhub.platform.context import PlatformContext
from flexhub.platform.delivery.ssrf import (
    BlockedTarget,
    GuardedResolver,
    address_allowed,
    check_url,
    url_problem,
)
from flexhub.platform.delivery.worker import Worker
from flexhub.platform.keys import KeyStore
from flexhub.store.database import Database
from flexhub.store.delivery import DeliveryAttempt
from support.databases import platform_settings
from support.outbox import seed
from support.receiver import Receiver


@pytest.mark.parametrize(
    ("address", "private_ok", "allowed"),
    [
        ("127.0.0.1", False, False),
        ("10.1.2.3", False, False),
        ("192.168.0.10", False, False),
        ("169.254.169.254", False, False),  # cloud metadata
        ("::1", False, False),
        ("fe80::1%eth0", False, False),
        ("0.0.0.0", True, False),
        ("224.0.0.1", True, False),
        ("8.8.8.8", False, True),
        ("127.0.0.1", True, True),
        ("not-an-ip", True, False),
    ],
)
def test_address_rules(address, private_ok, allowed):
    assert address_allowed(address, private_ok) is allowed


def test_url_rules():
    assert url_problem("https://example.com/hook", allow_private=False) is None
    for bad in ("ftp://example.com/x", "example.com/hook", "http:///nohost", "http://h:99999/"):
        assert url_problem(bad, allow_private=True) is not None, bad
    with pytest.raises(BlockedTarget):
        check_url("http://127.0.0.1:8080/hook", allow_private=False)
    check_url("http://127.0.0.1:8080/hook", allow_private=True)
    check_url("https://example.com/hook", allow_private=False)  # names go to the resolver


async def test_resolver_drops_names_that_point_inside():
    with pytest.raises(OSError, match="not allowed"):
        await GuardedResolver(allow_private=False).resolve("localhost", 80)
    allowed = await GuardedResolver(allow_private=True).resolve("localhost", 80)
    assert allowed and all(r["host"] in ("127.0.0.1", "::1") for r in allowed)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_worker_refuses_private_targets_unless_allowed(tmp_path, host):
    url = f"sqlite+aiosqlite:///{tmp_path}/ssrf.db"
    db = Database(url)
    await db.upgrade()
    receiver = await Receiver().start()
    try:
        target = receiver.url.replace("127.0.0.1", host)
        await seed(db, target, 1)
        settings = platform_settings(url, tmp_path, webhook_allow_private=False)
        ctx = PlatformContext(settings, db, KeyStore(tmp_path / "keys").load())
        async with Worker(ctx, platform_channels(ctx), "guarded") as worker:
            assert await worker.run_once() == 1
        assert receiver.requests == []
        async with db.session() as session:
            attempt = await session.scalar(select(DeliveryAttempt))
        assert not attempt.succeeded and attempt.status_code is None
        assert "not allowed" in attempt.error
    finally:
        await receiver.stop()
        await db.dispose()

"""A batch's subscription health in one UPDATE (``track_many``), on a real database: the same
``failing_since`` as :func:`track` applied one attempt after the other, and subscriptions with
an exhausted notification handed back untouched for the one-by-one path."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from flexhub.clock import utcnow
from flexhub.platform.delivery.health import track_many
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from flexhub.store.flexmarket_webhooks import FmSubscription


async def test_track_many_follows_each_attempt_in_order(make_partner, test_db):
    partner = await make_partner(role="provider", api="")
    now = utcnow().replace(microsecond=0)
    earlier = now - timedelta(hours=5)
    names = ["ok", "still_failing", "starts_failing", "ok_then_fails", "exhausted"]
    subs = {
        name: FmSubscription(
            id=str(uuid.uuid4()),
            tenant_id=partner.id,
            url="https://example.com/hook",
            events=[],
            active=True,
            created=now,
            modified=now,
            failing_since=None if name == "starts_failing" else earlier,
        )
        for name in names
    }

    def result(name: str, succeeded: bool, final: bool = False):
        row = OutboxRow(id=str(uuid.uuid4()), subscription_id=subs[name].id, tenant_id=partner.id)
        attempt = DeliveryAttempt(succeeded=succeeded, attempted_at=now)
        return row, attempt, final

    results = [
        result("ok", True),
        result("still_failing", False),
        result("starts_failing", False),
        result("ok_then_fails", True),
        result("exhausted", False, final=True),
        result("ok_then_fails", False),
    ]
    async with test_db.session() as session:
        session.add_all(subs.values())
        await session.commit()
    async with test_db.session() as session:
        slow = await track_many(session, FmSubscription, results)
        await session.commit()
    assert slow == [results[4]]
    async with test_db.session() as session:
        rows = await session.scalars(
            select(FmSubscription).where(FmSubscription.tenant_id == partner.id)
        )
        failing = {row.id: row.failing_since for row in rows}
    assert {name: failing[subs[name].id] for name in names} == {
        "ok": None,
        "still_failing": earlier,
        "starts_failing": now,
        "ok_then_fails": now,
        "exhausted": earlier,  # left to the one-by-one path
    }

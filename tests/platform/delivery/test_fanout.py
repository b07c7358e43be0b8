"""The fan-out helpers every webhook channel shares, on a real database with the Flex Market
subscription table: who gets a notification, and which outbox rows are still deliverable."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from flexhub.clock import utcnow
from flexhub.platform.delivery.fanout import Subscriptions, notify_subscribers, resolve
from flexhub.store.delivery import OutboxRow
from flexhub.store.flexmarket_webhooks import FmEvent, FmSubscription

TABLE = Subscriptions(FmSubscription, enabled="active", types="events")
CREATED = "dispatch_instruction.created"


def subscription(tenant_id: str, events: list[str], active: bool = True) -> FmSubscription:
    now = utcnow()
    return FmSubscription(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        url="https://example.com/hook",
        events=events,
        active=active,
        created=now,
        modified=now,
    )


async def test_notify_subscribers_then_resolve(make_partner, test_db):
    mine = await make_partner(role="provider", api="")
    other = await make_partner(role="provider", api="")
    wanted = subscription(mine.id, [CREATED, "obligation.created"])
    off = subscription(mine.id, [CREATED], active=False)
    elsewhere = subscription(mine.id, ["obligation.updated"])
    theirs = subscription(other.id, [CREATED])
    event = FmEvent(id=str(uuid.uuid4()), tenant_id=mine.id, event_type=CREATED, data={"id": "x"})
    async with test_db.session() as session:
        session.add_all([wanted, off, elsewhere, theirs, event])
        await session.flush()
        rows = await notify_subscribers(
            session, TABLE, tenant_id=mine.id, channel="test", event_id=event.id, event_type=CREATED
        )
        assert [r.subscription_id for r in rows] == [wanted.id]

        # rows the worker may hold: the wanted one, one whose subscription was switched off or
        # deleted since, and one naming another tenant's subscription
        def row(sub_id: str) -> OutboxRow:
            return OutboxRow(
                id=str(uuid.uuid4()),
                tenant_id=mine.id,
                channel="test",
                subscription_id=sub_id,
                event_id=event.id,
                event_type=CREATED,
            )

        stale, gone, foreign = row(off.id), row(str(uuid.uuid4())), row(theirs.id)
        other_event = FmEvent(
            id=str(uuid.uuid4()), tenant_id=other.id, event_type=CREATED, data={"id": "y"}
        )
        session.add(other_event)
        await session.flush()
        crossed = row(wanted.id)
        crossed.event_id = other_event.id
        checked = [rows[0], stale, gone, foreign, crossed]
        targets = await resolve(session, checked, TABLE, FmEvent)
        assert targets[rows[0].id][0].id == wanted.id and targets[rows[0].id][1].id == event.id
        assert targets[stale.id] is None and targets[gone.id] is None
        assert targets[foreign.id] is None and targets[crossed.id] is None
        await session.rollback()
    async with test_db.session() as session:
        assert (
            await session.scalars(select(OutboxRow).where(OutboxRow.channel == "test"))
        ).all() == []

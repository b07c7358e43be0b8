"""What the dashboard pages read: one function per page, each a page of rows and a total.

An ``admin`` sees every partner; a ``system_operator`` sees the Flex Market objects of its own
tenant and none of the Energy Coordination data (which belongs to the providers)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.store.coordination import EcEvent, EcWebhook, Neighbourhood
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from flexhub.store.flexmarket import FmCompetition, FmDispatchInstruction, FmObligation
from flexhub.store.flexmarket_webhooks import FmEvent, FmSubscription
from flexhub.store.partners import Partner


@dataclass(frozen=True)
class Viewer:
    tenant_id: str
    role: str
    name: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


@dataclass
class Rows:
    items: list[Any]
    total: int
    page: int
    page_size: int


async def _page(session: AsyncSession, query: Select, page: int, size: int) -> Rows:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.execute(query.limit(size).offset((page - 1) * size))).all()
    items = [row[0] if len(row) == 1 else row for row in rows]
    return Rows(items, int(total or 0), page, size)


async def partner_names(session: AsyncSession) -> dict[str, str]:
    return dict((await session.execute(select(Partner.id, Partner.name))).all())


def _so_scope(query: Select, model: Any, viewer: Viewer) -> Select:
    return query if viewer.admin else query.where(model.so_tenant_id == viewer.tenant_id)


async def overview(session: AsyncSession, viewer: Viewer) -> dict[str, Any]:
    d = FmDispatchInstruction
    statuses = Counter(
        dict(
            (
                await session.execute(
                    _so_scope(select(d.status, func.count()).group_by(d.status), d, viewer)
                )
            ).all()
        )
    )
    out: dict[str, Any] = {
        "instructions": statuses,
        "competitions": await session.scalar(
            _so_scope(select(func.count()).select_from(FmCompetition), FmCompetition, viewer)
        ),
        "obligations": await session.scalar(
            _so_scope(select(func.count()).select_from(FmObligation), FmObligation, viewer)
        ),
    }
    if viewer.admin:
        out["partners"] = await session.scalar(select(func.count()).select_from(Partner))
        out["events"] = dict(
            (
                await session.execute(
                    select(EcEvent.payload_type, func.count()).group_by(EcEvent.payload_type)
                )
            ).all()
        )
        out["outbox"] = dict(
            (
                await session.execute(
                    select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
                )
            ).all()
        )
        out["webhooks"] = dict(
            (
                await session.execute(
                    select(EcWebhook.status, func.count()).group_by(EcWebhook.status)
                )
            ).all()
        )
    return out


async def instructions(
    session: AsyncSession, viewer: Viewer, page: int, size: int, status: str | None = None
) -> Rows:
    d = FmDispatchInstruction
    query = _so_scope(select(d), d, viewer).order_by(d.created.desc(), d.id)
    if status:
        query = query.where(d.status == status)
    return await _page(session, query, page, size)


async def instruction(session: AsyncSession, viewer: Viewer, instruction_id: str) -> Any:
    d = FmDispatchInstruction
    return await session.scalar(_so_scope(select(d).where(d.id == instruction_id), d, viewer))


async def notifications_about(
    session: AsyncSession, tenant_id: str, subject_id: str
) -> list[tuple[OutboxRow, FmEvent]]:
    """The Flex Market notifications of the events about one object, oldest first."""
    rows = await session.execute(
        select(OutboxRow, FmEvent)
        .join(FmEvent, FmEvent.id == OutboxRow.event_id)
        .where(
            OutboxRow.tenant_id == tenant_id,
            OutboxRow.channel == "flexmarket",
            FmEvent.data["id"].as_string() == subject_id,
        )
        .order_by(OutboxRow.created_at, OutboxRow.id)
    )
    return list(rows.all())


async def delivery_counts(
    session: AsyncSession, tenant_id: str, subject_ids: list[str]
) -> dict[str, Counter]:
    """Per object id, how many of its notifications are delivered, pending or failed."""
    if not subject_ids:
        return {}
    subject = FmEvent.data["id"].as_string()
    rows = await session.execute(
        select(subject, OutboxRow.status, func.count())
        .join(FmEvent, FmEvent.id == OutboxRow.event_id)
        .where(OutboxRow.channel == "flexmarket", subject.in_(subject_ids))
        .group_by(subject, OutboxRow.status)
    )
    out: dict[str, Counter] = {}
    for sid, status, count in rows.all():
        out.setdefault(sid, Counter())[status] += count
    return out


async def competitions(session: AsyncSession, viewer: Viewer, page: int, size: int) -> Rows:
    c = FmCompetition
    query = _so_scope(select(c), c, viewer).order_by(c.created.desc(), c.id)
    return await _page(session, query, page, size)


async def obligations(session: AsyncSession, viewer: Viewer, page: int, size: int) -> Rows:
    o = FmObligation
    query = _so_scope(select(o), o, viewer).order_by(o.created.desc(), o.id)
    return await _page(session, query, page, size)


async def events(
    session: AsyncSession, page: int, size: int, payload_type: str | None = None
) -> Rows:
    query = select(EcEvent).order_by(EcEvent.created_at.desc(), EcEvent.id)
    if payload_type:
        query = query.where(EcEvent.payload_type == payload_type)
    return await _page(session, query, page, size)


async def event(session: AsyncSession, event_id: str) -> EcEvent | None:
    return await session.get(EcEvent, event_id)


async def event_notifications(session: AsyncSession, event_id: str) -> list[OutboxRow]:
    rows = await session.scalars(
        select(OutboxRow)
        .where(OutboxRow.channel == "coordination", OutboxRow.event_id == event_id)
        .order_by(OutboxRow.created_at, OutboxRow.id)
    )
    return list(rows.all())


async def neighbourhoods(session: AsyncSession, page: int, size: int) -> Rows:
    query = select(Neighbourhood).order_by(Neighbourhood.id)
    return await _page(session, query, page, size)


async def webhooks(session: AsyncSession) -> tuple[list[EcWebhook], list[FmSubscription]]:
    ec = await session.scalars(
        select(EcWebhook).order_by(EcWebhook.tenant_id, EcWebhook.created_at)
    )
    fm = await session.scalars(
        select(FmSubscription).order_by(FmSubscription.tenant_id, FmSubscription.created)
    )
    return list(ec.all()), list(fm.all())


async def webhook_health(session: AsyncSession) -> dict[str, Counter]:
    """Per subscription id: attempts by outcome (succeeded / failed / timed out)."""
    rows = await session.execute(
        select(
            DeliveryAttempt.subscription_id,
            DeliveryAttempt.succeeded,
            DeliveryAttempt.timed_out,
            func.count(),
        ).group_by(
            DeliveryAttempt.subscription_id, DeliveryAttempt.succeeded, DeliveryAttempt.timed_out
        )
    )
    out: dict[str, Counter] = {}
    for sub, ok, timed_out, count in rows.all():
        key = "ok" if ok else ("timeout" if timed_out else "failed")
        out.setdefault(sub, Counter())[key] += count
    return out


async def deliveries(
    session: AsyncSession, page: int, size: int, partner: str | None = None
) -> Rows:
    a = DeliveryAttempt
    query = select(a).order_by(a.attempted_at.desc(), a.id.desc())
    if partner:
        query = query.where(a.tenant_id == partner)
    return await _page(session, query, page, size)

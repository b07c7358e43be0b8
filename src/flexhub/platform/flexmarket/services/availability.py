"""Availability variations: a provider declares that, for a period, a different capacity than
contracted is available under one of its obligations. SOs read what their providers declared;
an instruction asking for more than the declared minimum over its period is flagged.

Declarations are never edited: where several cover the same time, the newest one counts, so a
provider corrects a declaration by declaring again (a lower figure followed by a higher one for
the same hours means the higher one is available)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.services import obligations
from flexhub.platform.flexmarket.services.queries import scoped
from flexhub.store.flexmarket import FmAvailabilityVariation
from flexhub.wire.flexmarket.obligations import VariationIn, VariationOut

V = FmAvailabilityVariation


async def declare(
    session: AsyncSession,
    provider_tenant_id: str,
    obligation_id: str,
    body: VariationIn,
    now: datetime,
) -> VariationOut:
    ob = await obligations.find(session, obligation_id, provider_tenant_id=provider_tenant_id)
    e = Errors()
    start = e.utc_datetime(body.start, "start")
    end = e.utc_datetime(body.end, "end")
    if start and end and end <= start:
        e.add("end", "must be later than start")
    e.decimal(body.available_capacity, "available_capacity", non_negative=True)
    if body.reason is not None and len(body.reason) > 2000:
        e.add("reason", "must be at most 2000 characters")
    if ob.status not in ("awarded", "active"):
        e.add("obligation_id", f"the obligation is {ob.status}")
    e.raise_if_any()
    row = V(
        id=str(uuid.uuid4()),
        obligation_id=ob.id,
        provider_tenant_id=provider_tenant_id,
        so_tenant_id=ob.so_tenant_id,
        start=start,
        end=end,
        available_capacity=body.available_capacity,
        reason=body.reason,
        created=now,
    )
    session.add(row)
    await session.flush()
    view = mappers.variation(row)
    await session.commit()
    return view


async def list_variations(
    session: AsyncSession,
    page: Page,
    *,
    obligation_id: str | None = None,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> tuple[list[VariationOut], int]:
    query = scoped(select(V), V, provider_tenant_id, so_tenant_id)
    if obligation_id is not None:
        query = query.where(V.obligation_id == obligation_id)
    rows, count = await fetch(session, query.order_by(V.created, V.id), page)
    return [mappers.variation(v) for v in rows], count


async def declared_minimum(
    session: AsyncSession, obligation_id: str, start: datetime, end: datetime
) -> Decimal | None:
    """The least capacity declared available at any time in ``[start, end)``, each instant
    governed by the newest declaration covering it; None where nothing was declared."""
    rows = (
        await session.scalars(
            select(V)
            .where(V.obligation_id == obligation_id, V.start < end, V.end > start)
            .order_by(V.created.desc(), V.id.desc())
        )
    ).all()
    cuts = sorted({start, end, *(v.start for v in rows), *(v.end for v in rows)})
    governing = []
    for low, high in zip(cuts, cuts[1:], strict=False):
        if start <= low and high <= end:
            newest = next((v for v in rows if v.start <= low and high <= v.end), None)
            if newest is not None:
                governing.append(Decimal(newest.available_capacity))
    return min(governing, default=None)

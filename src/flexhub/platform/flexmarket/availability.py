"""Availability variations: a provider declares that, for a period, a different capacity than
contracted is available under one of its obligations. SOs read what their providers declared;
an instruction asking for more than the declared minimum over its period is flagged."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import obligations, wire
from flexhub.platform.flexmarket.fields import Errors
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.schemas.obligations import VariationIn
from flexhub.store.flexmarket import FmAvailabilityVariation

V = FmAvailabilityVariation


async def declare(
    session: AsyncSession,
    provider_tenant_id: str,
    obligation_id: str,
    body: VariationIn,
    now: datetime,
) -> dict[str, Any]:
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
    view = wire.variation(row)
    await session.commit()
    return view


async def list_variations(
    session: AsyncSession,
    page: Page,
    *,
    obligation_id: str | None = None,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    query = select(V)
    if provider_tenant_id is not None:
        query = query.where(V.provider_tenant_id == provider_tenant_id)
    if so_tenant_id is not None:
        query = query.where(V.so_tenant_id == so_tenant_id)
    if obligation_id is not None:
        query = query.where(V.obligation_id == obligation_id)
    rows, count = await fetch(session, query.order_by(V.created, V.id), page)
    return [wire.variation(v) for v in rows], count


async def declared_minimum(
    session: AsyncSession, obligation_id: str, start: datetime, end: datetime
) -> Decimal | None:
    """The least capacity declared available by a variation overlapping ``[start, end)``."""
    values = (
        await session.scalars(
            select(V.available_capacity).where(
                V.obligation_id == obligation_id, V.start < end, V.end > start
            )
        )
    ).all()
    return min((Decimal(v) for v in values), default=None)

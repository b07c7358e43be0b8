"""Neighbourhoods for operators: listing them, and loading a GeoJSON FeatureCollection (the CLI
and ``PUT /operator/neighbourhoods`` alike).

A load replaces the whole set in one transaction: neighbourhoods it names are added or
updated, those it does not name are removed (loading the same file again changes nothing),
every user's eligibility is recomputed and stored, and what flipped is announced in the
partners' next ``UserEligibility`` cycle. A bad file is refused as a whole, every problem
named; nothing is written. With ``FLEXHUB_SANDBOX_NEIGHBOURHOODS`` (default on) the
documented sandbox test areas are part of every set: a load keeps them unless it defines an
area with the same id, and the platform adds them at start when they are missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.coordination.paging import Page
from flexhub.platform.engines import eligibility, neighbourhood_rows
from flexhub.platform.engines.neighbourhoods import (
    CollectionError,
    NeighbourhoodSpec,
    parse_collection,
    sandbox_specs,
    spec_of_row,
    with_sandbox,
)
from flexhub.platform.errors import ApiError, not_found
from flexhub.store.coordination import Neighbourhood
from flexhub.wire.coordination.neighbourhoods import (
    GetNeighbourhoodResponse,
    GetNeighbourhoodsResponse,
    PutNeighbourhoodsResponse,
)


def response(row: Neighbourhood) -> GetNeighbourhoodResponse:
    spec = spec_of_row(row)
    return GetNeighbourhoodResponse(
        id=spec.id,
        name=spec.name,
        priceArea=spec.price_area,
        timeZone=spec.time_zone,
        currency=spec.currency,
        capacityKw=spec.capacity_kw,
        meterPointIds=list(spec.meter_point_ids),
        geometry=spec.geometry,
        params=spec.params,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


async def list_neighbourhoods(session: AsyncSession, paging: Page) -> GetNeighbourhoodsResponse:
    """By id."""
    total = await session.scalar(select(func.count()).select_from(Neighbourhood))
    rows = await session.scalars(
        select(Neighbourhood)
        .order_by(Neighbourhood.id)
        .offset((paging.number - 1) * paging.size)
        .limit(paging.size)
    )
    return GetNeighbourhoodsResponse(
        pagination=paging.pagination(int(total or 0)),
        neighbourhoods=[response(r) for r in rows.all()],
    )


async def get_neighbourhood(
    session: AsyncSession, neighbourhood_id: str
) -> GetNeighbourhoodResponse:
    row = await session.get(Neighbourhood, neighbourhood_id)
    if row is None:
        raise not_found(f"Neighbourhood '{neighbourhood_id}'")
    return response(row)


def parse(data: Any) -> list[NeighbourhoodSpec]:
    """The FeatureCollection's neighbourhoods, or a 400 naming every problem by its field."""
    try:
        return parse_collection(data)
    except CollectionError as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            where, _, message = problem.partition(": ")
            errors.setdefault(where if message else "body", []).append(message or problem)
        raise ApiError(
            400, f"The FeatureCollection cannot be loaded: {exc}", errors=errors
        ) from exc


async def replace(
    session: AsyncSession, specs: Sequence[NeighbourhoodSpec], *, sandbox: bool
) -> PutNeighbourhoodsResponse:
    """Make the stored set be ``specs`` (with the sandbox areas when ``sandbox``), recompute
    eligibility and queue what flipped; commits."""
    wanted = with_sandbox(specs) if sandbox else list(specs)
    await eligibility.hold_guard(session, exclusive=True)
    done = await neighbourhood_rows.replace_all(session, wanted)
    added = removed = 0
    if done.changed:
        for change in (await eligibility.reassess_all(session)).values():
            added += len(change.added)
            removed += len(change.removed)
    await session.commit()
    return PutNeighbourhoodsResponse(
        added=done.added,
        updated=done.updated,
        removed=done.removed,
        unchanged=done.unchanged,
        usersAdded=added,
        usersRemoved=removed,
    )


async def ensure_sandbox(session: AsyncSession) -> list[str]:
    """Add the sandbox test areas that are missing (at start); their users' eligibility
    follows. Returns the ids added; commits."""
    stored = set((await session.scalars(select(Neighbourhood.id))).all())
    missing = [s for s in sandbox_specs() if s.id not in stored]
    if not missing:
        return []
    await eligibility.hold_guard(session, exclusive=True)
    done = await neighbourhood_rows.replace_all(session, missing, remove_missing=False)
    await eligibility.reassess_all(session)
    await session.commit()
    return done.added

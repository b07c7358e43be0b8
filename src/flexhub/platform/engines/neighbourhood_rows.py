"""The ``neighbourhoods`` table as the engines use it: the placement index of what is stored
(built once per version of the table and process), and replacing the stored set with a loaded
one (what a reload adds, changes and removes). The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.engines.neighbourhoods import NeighbourhoodSpec, shape_of_row, spec_of_row
from flexhub.platform.engines.placement import AreaInput, Placement
from flexhub.store.coordination import Neighbourhood

# (database URL, version) -> placement; one entry per database
_CACHE: dict[str, tuple[tuple, Placement]] = {}


async def _version(session: AsyncSession) -> tuple:
    """Changes whenever a neighbourhood is added, changed (``updated_at``) or removed."""
    row = (
        await session.execute(
            select(
                func.count(), func.max(Neighbourhood.created_at), func.max(Neighbourhood.updated_at)
            )
        )
    ).one()
    return tuple(row)


async def placement(session: AsyncSession) -> Placement:
    """The placement index of the neighbourhoods stored now (cached while they do not change)."""
    url = str(session.bind.url)
    version = await _version(session)
    cached = _CACHE.get(url)
    if cached is not None and cached[0] == version:
        return cached[1]
    rows = (await session.scalars(select(Neighbourhood))).all()
    index = Placement(
        AreaInput(r.id, shape_of_row(r), tuple(r.meter_point_ids or ())) for r in rows
    )
    _CACHE[url] = (version, index)
    return index


@dataclass(frozen=True)
class Replaced:
    """What replacing the stored set did, ids sorted."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


async def replace_all(
    session: AsyncSession, specs: Sequence[NeighbourhoodSpec], *, remove_missing: bool = True
) -> Replaced:
    """Make the stored neighbourhoods be ``specs``: new ones added, different ones updated,
    the rest left as they are (``updated_at`` too) and, with ``remove_missing``, stored ones
    that ``specs`` lack removed. The caller commits."""
    now = utcnow()
    stored = {r.id: r for r in (await session.scalars(select(Neighbourhood))).all()}
    wanted = {s.id: s for s in specs}
    added, updated, unchanged = [], [], []
    for spec in specs:
        row = stored.get(spec.id)
        if row is None:
            session.add(
                Neighbourhood(id=spec.id, created_at=now, updated_at=now, **spec.row_values())
            )
            added.append(spec.id)
        elif spec_of_row(row) != spec or row.polygon is not None:
            for column, value in spec.row_values().items():
                setattr(row, column, value)
            row.updated_at = now
            updated.append(spec.id)
        else:
            unchanged.append(spec.id)
    removed = sorted(set(stored) - set(wanted)) if remove_missing else []
    if removed:
        await session.execute(delete(Neighbourhood).where(Neighbourhood.id.in_(removed)))
    await session.flush()
    if remove_missing:  # the stored set is now ``specs``: index them without reading back
        index = Placement(AreaInput(s.id, s.shape(), s.meter_point_ids) for s in specs)
        _CACHE[str(session.bind.url)] = (await _version(session), index)
    return Replaced(sorted(added), sorted(updated), removed, sorted(unchanged))


async def stored_specs(session: AsyncSession) -> list[NeighbourhoodSpec]:
    rows = await session.scalars(select(Neighbourhood).order_by(Neighbourhood.id))
    return [spec_of_row(r) for r in rows.all()]

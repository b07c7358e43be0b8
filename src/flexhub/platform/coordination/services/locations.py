"""Locations and their meter points.

Rules:
- ``locationId`` is unique per partner (across all its users); a location is reached only
  through its own user (another user's or partner's location is a 404).
- A meter point id belongs to at most one location of a partner; using one that another
  location holds is a conflict (409 on create/patch; 400 on PUT, which documents no 409, and
  in batches, which report every problem as a 400 naming the entry).
- ``locationType`` defaults to ``Unknown`` when omitted on create and on PUT (full replace);
  PATCH changes only the fields it carries (``null`` = unchanged, ``[]`` clears the meters).
- A location may have neither coordinates nor meters (it is then never eligible).
- A resource whose meter leaves its location loses that ``meterPointId`` (set to null).
- Every write locks the owner first (so concurrent writes to one user take turns, see
  ``eligibility.lock_users``) and recomputes its eligibility in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.services import eligibility_events
from flexhub.platform.coordination.services.users import require_user
from flexhub.platform.engines import eligibility
from flexhub.platform.errors import ApiError, bad_request, not_found
from flexhub.platform.transactions import committing, delete_existing
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcResource
from flexhub.wire.coordination.locations import GetLocationResponse

IN_SLICE = 1000  # values per IN (...) list


@dataclass
class LocationSpec:
    """A location as a create or PUT gives it (wire details already folded)."""

    location_id: str
    location_type: str = "Unknown"
    latitude: float | None = None
    longitude: float | None = None
    meter_point_ids: list[str] = field(default_factory=list)


@dataclass
class LocationPatch:
    """Only the fields that are not None change."""

    location_type: str | None = None
    coordinates: tuple[float, float] | None = None  # (latitude, longitude)
    meter_point_ids: list[str] | None = None


def location_missing(location_id: str) -> ApiError:
    return not_found(f"Location '{location_id}'")


async def meters_of(session: AsyncSession, tenant_id: str, location_id: str) -> list[str]:
    rows = await session.scalars(
        select(EcLocationMeter.meter_point_id)
        .where(EcLocationMeter.tenant_id == tenant_id, EcLocationMeter.location_id == location_id)
        .order_by(EcLocationMeter.position, EcLocationMeter.meter_point_id)
    )
    return list(rows.all())


async def require_location(
    session: AsyncSession, tenant_id: str, user_id: str, location_id: str, *, lock: bool = False
) -> EcLocation:
    """The user's location, after checking (for a write: locking) the user: 404 for either
    one missing."""
    await require_user(session, tenant_id, user_id, lock=lock)
    location = await session.get(EcLocation, (tenant_id, location_id))
    if location is None or location.user_id != user_id:
        raise location_missing(location_id)
    return location


async def list_locations(
    session: AsyncSession, tenant_id: str, user_id: str
) -> list[GetLocationResponse]:
    await require_user(session, tenant_id, user_id)
    pairs = await eligibility.locations_with_meters(session, tenant_id, [user_id])
    pairs.sort(key=lambda p: (p[0].created_at, p[0].location_id))
    return [mappers.location(loc, meters) for loc, meters in pairs]


async def get_location(
    session: AsyncSession, tenant_id: str, user_id: str, location_id: str
) -> GetLocationResponse:
    location = await require_location(session, tenant_id, user_id, location_id)
    return mappers.location(location, await meters_of(session, tenant_id, location_id))


def _duplicate_meter(meters: list[str], field_name: str) -> None:
    seen: set[str] = set()
    for meter in meters:
        if meter in seen:
            raise bad_request(
                f"{field_name}: meter point id '{meter}' is listed more than once", field_name
            )
        seen.add(meter)


async def _meter_owners(session: AsyncSession, tenant_id: str, meters: list[str]) -> dict[str, str]:
    """meter point id → the location that holds it, for those already registered (asked in
    slices: a batch may name more meters than one PostgreSQL statement can carry)."""
    owners: dict[str, str] = {}
    for start in range(0, len(meters), IN_SLICE):
        rows = await session.execute(
            select(EcLocationMeter.meter_point_id, EcLocationMeter.location_id).where(
                EcLocationMeter.tenant_id == tenant_id,
                EcLocationMeter.meter_point_id.in_(meters[start : start + IN_SLICE]),
            )
        )
        owners.update(rows.all())
    return owners


async def _check_meters_free(
    session: AsyncSession,
    tenant_id: str,
    location_id: str,
    meters: list[str],
    field_name: str,
    status: int,
) -> None:
    _duplicate_meter(meters, field_name)
    owners = await _meter_owners(session, tenant_id, meters)
    for meter in meters:
        owner = owners.get(meter)
        if owner is not None and owner != location_id:
            message = (
                f"{field_name}: meter point id '{meter}' is already registered on "
                f"location '{owner}'"
            )
            raise ApiError(status, message, errors={field_name: [message]})


async def _set_meters(
    session: AsyncSession,
    tenant_id: str,
    location_id: str,
    meters: list[str],
    *,
    existing: bool = True,
) -> None:
    """Replace the location's meters; resources pointing at a removed meter lose the pointer."""
    if existing:
        await session.execute(
            delete(EcLocationMeter).where(
                EcLocationMeter.tenant_id == tenant_id,
                EcLocationMeter.location_id == location_id,
            )
        )
        stale = update(EcResource).where(
            EcResource.tenant_id == tenant_id,
            EcResource.location_id == location_id,
            EcResource.meter_point_id.is_not(None),
        )
        if meters:
            stale = stale.where(EcResource.meter_point_id.not_in(meters))
        await session.execute(
            stale.values(meter_point_id=None).execution_options(synchronize_session=False)
        )
    if meters:
        await session.execute(
            insert(EcLocationMeter),
            [
                {
                    "tenant_id": tenant_id,
                    "meter_point_id": m,
                    "location_id": location_id,
                    "position": i,
                }
                for i, m in enumerate(meters)
            ],
        )


def _location_row(tenant_id: str, user_id: str, spec: LocationSpec) -> dict:
    """A new location's columns (a time each: listings go in creation order)."""
    now = utcnow()
    return {
        "tenant_id": tenant_id,
        "location_id": spec.location_id,
        "user_id": user_id,
        "location_type": spec.location_type,
        "latitude": spec.latitude,
        "longitude": spec.longitude,
        "simulated": False,
        "created_at": now,
        "modified_at": now,
    }


def _new_location(tenant_id: str, user_id: str, spec: LocationSpec) -> EcLocation:
    return EcLocation(**_location_row(tenant_id, user_id, spec))


async def create_location(
    session: AsyncSession, tenant_id: str, user_id: str, spec: LocationSpec
) -> GetLocationResponse:
    """404 unknown user; 409 taken locationId or meter point; else stored and committed."""
    await require_user(session, tenant_id, user_id, lock=True)
    if await session.get(EcLocation, (tenant_id, spec.location_id)) is not None:
        message = f"locationId: a location with id '{spec.location_id}' already exists"
        raise ApiError(409, message, errors={"locationId": [message]})
    await _check_meters_free(
        session, tenant_id, spec.location_id, spec.meter_point_ids, "meterPointIds", 409
    )
    location = _new_location(tenant_id, user_id, spec)
    async with committing(session, 409, "the location or a meter point is already taken"):
        session.add(location)
        await session.flush()
        await _set_meters(
            session, tenant_id, spec.location_id, spec.meter_point_ids, existing=False
        )
        await eligibility_events.refresh(session, tenant_id, [user_id])
    return mappers.location(location, list(spec.meter_point_ids))


async def replace_location(
    session: AsyncSession, tenant_id: str, user_id: str, location_id: str, spec: LocationSpec
) -> GetLocationResponse:
    """PUT: every field replaced (omitted ones take their defaults)."""
    if spec.location_id != location_id:
        raise bad_request(
            f"locationId: the body's locationId '{spec.location_id}' does not match the "
            f"path's '{location_id}'",
            "locationId",
        )
    location = await require_location(session, tenant_id, user_id, location_id, lock=True)
    await _check_meters_free(
        session, tenant_id, location_id, spec.meter_point_ids, "meterPointIds", 400
    )
    async with committing(session, 400, "a meter point is already taken", "meterPointIds"):
        location.location_type = spec.location_type
        location.latitude = spec.latitude
        location.longitude = spec.longitude
        location.modified_at = utcnow()
        await _set_meters(session, tenant_id, location_id, spec.meter_point_ids)
        await eligibility_events.refresh(session, tenant_id, [user_id])
    return mappers.location(location, list(spec.meter_point_ids))


async def patch_location(
    session: AsyncSession, tenant_id: str, user_id: str, location_id: str, patch: LocationPatch
) -> GetLocationResponse:
    location = await require_location(session, tenant_id, user_id, location_id, lock=True)
    if patch.meter_point_ids is not None:
        await _check_meters_free(
            session, tenant_id, location_id, patch.meter_point_ids, "meterPointIds", 409
        )
    async with committing(session, 409, "a meter point is already taken", "meterPointIds"):
        if patch.location_type is not None:
            location.location_type = patch.location_type
        if patch.coordinates is not None:
            location.latitude, location.longitude = patch.coordinates
        location.modified_at = utcnow()
        if patch.meter_point_ids is not None:
            await _set_meters(session, tenant_id, location_id, patch.meter_point_ids)
            meters = list(patch.meter_point_ids)
        else:
            meters = await meters_of(session, tenant_id, location_id)
        await eligibility_events.refresh(session, tenant_id, [user_id])
    return mappers.location(location, meters)


async def delete_location(
    session: AsyncSession, tenant_id: str, user_id: str, location_id: str
) -> None:
    """Removes the location, its meters and its location-bound resources."""
    await require_location(session, tenant_id, user_id, location_id, lock=True)
    statement = delete(EcLocation).where(
        EcLocation.tenant_id == tenant_id, EcLocation.location_id == location_id
    )
    await delete_existing(session, statement, location_missing(location_id))
    await eligibility_events.refresh(session, tenant_id, [user_id])
    await session.commit()


async def _taken_locations(
    session: AsyncSession, tenant_id: str, location_ids: list[str]
) -> set[str]:
    if not location_ids:
        return set()
    rows = await session.scalars(
        select(EcLocation.location_id).where(
            EcLocation.tenant_id == tenant_id, EcLocation.location_id.in_(location_ids)
        )
    )
    return set(rows.all())


def _check_batch_meters(
    where: str, i: int, meters: list[str], owners: dict[str, str], seen: dict[str, int]
) -> None:
    field_name = f"{where}.meterPointIds"
    _duplicate_meter(meters, field_name)
    for meter in meters:
        if meter in owners:
            raise bad_request(
                f"{field_name}: meter point id '{meter}' is already registered on "
                f"location '{owners[meter]}'",
                field_name,
            )
        if meter in seen:
            raise bad_request(
                f"{field_name}: meter point id '{meter}' appears more than once in the "
                f"request (first at locations[{seen[meter]}])",
                field_name,
            )
        seen[meter] = i


async def check_batch(
    session: AsyncSession, tenant_id: str, items: list[tuple[str, LocationSpec]]
) -> list[str]:
    """Every entry checked (the first problem is a 400 naming it: ``locations[i].field``); the
    batch's users are locked, as for a single location, and returned in id order."""
    user_ids = sorted({u for u, _ in items})
    known: set[str] = set()
    if user_ids:
        known = set(await eligibility.lock_user_flags(session, tenant_id, user_ids))
    taken = await _taken_locations(session, tenant_id, [spec.location_id for _, spec in items])
    all_meters = [m for _, spec in items for m in spec.meter_point_ids]
    owners = await _meter_owners(session, tenant_id, all_meters)
    seen_locations: dict[str, int] = {}
    seen_meters: dict[str, int] = {}
    for i, (user_id, spec) in enumerate(items):
        where = f"locations[{i}]"
        if user_id not in known:
            raise bad_request(f"{where}.userId: user '{user_id}' was not found", f"{where}.userId")
        lid = spec.location_id
        if lid in taken:
            raise bad_request(
                f"{where}.locationId: a location with id '{lid}' already exists",
                f"{where}.locationId",
            )
        if lid in seen_locations:
            raise bad_request(
                f"{where}.locationId: locationId '{lid}' appears more than once in the request "
                f"(first at locations[{seen_locations[lid]}])",
                f"{where}.locationId",
            )
        seen_locations[lid] = i
        _check_batch_meters(where, i, spec.meter_point_ids, owners, seen_meters)
    return user_ids


INSERT_CHUNK = 3000  # rows per INSERT (bound parameters stay under the drivers' limits)


async def create_locations_batch(
    session: AsyncSession, tenant_id: str, items: list[tuple[str, LocationSpec]]
) -> list[GetLocationResponse]:
    """All or nothing. Every problem is a 400 naming the entry (``locations[i].field``): an
    unknown user, a taken or repeated locationId, a taken or repeated meter point id."""
    user_ids = await check_batch(session, tenant_id, items)
    values = [_location_row(tenant_id, user_id, spec) for user_id, spec in items]
    rows = [
        {
            "tenant_id": tenant_id,
            "meter_point_id": m,
            "location_id": spec.location_id,
            "position": j,
        }
        for _, spec in items
        for j, m in enumerate(spec.meter_point_ids)
    ]
    async with committing(session, 400, "a location or meter point is already taken", "locations"):
        conn = await session.connection()  # core inserts: no ORM bulk bookkeeping per row
        for k in range(0, len(values), INSERT_CHUNK):
            await conn.execute(EcLocation.__table__.insert(), values[k : k + INSERT_CHUNK])
        for k in range(0, len(rows), INSERT_CHUNK):
            await conn.execute(EcLocationMeter.__table__.insert(), rows[k : k + INSERT_CHUNK])
        await eligibility_events.refresh(session, tenant_id, user_ids)
    return [
        mappers.location(SimpleNamespace(**row), list(spec.meter_point_ids))
        for row, (_, spec) in zip(values, items, strict=True)
    ]

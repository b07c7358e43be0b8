"""Sandbox partner data: a small random set of users, each with a location (one meter point id,
coordinates inside sandbox test area 1 so the user becomes eligible), location-bound resources
and sometimes a vehicle, all marked ``simulated``; and their removal.

Eligibility is computed by the eligibility engine in the same transaction (the users' change
is published as one UserEligibility event, as for any other write); the sandbox test areas are
the neighbourhoods the platform seeds on start.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination.services import eligibility_events
from flexhub.platform.coordination.services.resources import VEHICLE, new_resource
from flexhub.platform.engines import eligibility, neighbourhoods
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcResource, EcUser

# Centre of the documented sandbox test area 1 (Svalbard); simulated homes are scattered
# within ~1 km of it, well inside the area.
AREA_LATITUDE, AREA_LONGITUDE = neighbourhoods.SANDBOX_AREAS[0][2:4]
SPREAD_DEG = 0.01
LOCATION_TYPES = ("Residential", "Residential", "Commercial", "Other")
RESOURCE_TYPES = ("HotWaterTank", "HVAC", "Charger", "SolarInverter", "Generic")
MPID_PREFIX = "707057500"  # Norwegian GS1 prefix, as the document's examples

_rng = random.Random()


@dataclass
class SimulatedData:
    users: int = 0
    locations: int = 0
    resources: int = 0
    vehicles: int = 0


def _meter_point_id(rng: random.Random) -> str:
    """An 18-digit GSRN with a valid GS1 check digit."""
    body = MPID_PREFIX + "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


async def create_simulated_partner(
    session: AsyncSession, tenant_id: str, rng: random.Random = _rng
) -> SimulatedData:
    now = utcnow()
    used_meters = set(
        (
            await session.scalars(
                select(EcLocationMeter.meter_point_id).where(EcLocationMeter.tenant_id == tenant_id)
            )
        ).all()
    )
    users: list[EcUser] = []
    locations: list[EcLocation] = []
    meters: list[EcLocationMeter] = []
    resources: list[EcResource] = []
    for _ in range(rng.randint(2, 4)):
        user_id, location_id = str(uuid.uuid4()), str(uuid.uuid4())
        users.append(
            EcUser(
                tenant_id=tenant_id, user_id=user_id, eligible=False, simulated=True, created_at=now
            )
        )
        locations.append(
            EcLocation(
                tenant_id=tenant_id,
                location_id=location_id,
                user_id=user_id,
                location_type=rng.choice(LOCATION_TYPES),
                latitude=AREA_LATITUDE + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
                longitude=AREA_LONGITUDE + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
                simulated=True,
                created_at=now,
                modified_at=now,
            )
        )
        meter = _meter_point_id(rng)
        while meter in used_meters:
            meter = _meter_point_id(rng)
        used_meters.add(meter)
        meters.append(
            EcLocationMeter(
                tenant_id=tenant_id, meter_point_id=meter, location_id=location_id, position=0
            )
        )
        for kind in rng.sample(RESOURCE_TYPES, rng.randint(1, 2)):
            resources.append(_resource(tenant_id, user_id, kind, location_id, now))
        if rng.random() < 0.5:
            resources.append(_resource(tenant_id, user_id, VEHICLE, None, now))
    # the tables have no ORM relationships, so insert parents before children explicitly
    for rows in (users, locations, meters + resources):
        session.add_all(rows)
        await session.flush()
    await eligibility_events.refresh(session, tenant_id, [u.user_id for u in users])
    await session.commit()
    return SimulatedData(
        users=len(users),
        locations=len(locations),
        resources=sum(1 for r in resources if r.location_id is not None),
        vehicles=sum(1 for r in resources if r.location_id is None),
    )


def _resource(
    tenant_id: str, user_id: str, kind: str, location_id: str | None, now: datetime
) -> EcResource:
    return new_resource(
        tenant_id,
        user_id,
        str(uuid.uuid4()),
        kind,
        location_id=location_id,
        simulated=True,
        now=now,
    )


async def delete_simulated_partner(session: AsyncSession, tenant_id: str) -> None:
    """Remove every simulated row of the partner (their enrollments and meters with them);
    eligible simulated users leave in one UserEligibility event (only the request that
    actually deleted them publishes it)."""
    await eligibility.hold_guard(session)
    await session.execute(
        delete(EcResource).where(EcResource.tenant_id == tenant_id, EcResource.simulated.is_(True))
    )
    await session.execute(
        delete(EcLocation).where(EcLocation.tenant_id == tenant_id, EcLocation.simulated.is_(True))
    )
    deleted = await session.execute(
        delete(EcUser)
        .where(EcUser.tenant_id == tenant_id, EcUser.simulated.is_(True))
        .returning(EcUser.user_id, EcUser.announced)
    )
    await eligibility_events.users_deleted(session, tenant_id, deleted.all())
    await session.commit()

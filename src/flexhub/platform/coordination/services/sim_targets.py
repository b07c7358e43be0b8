"""A partner's users, locations, meters and resources as event simulation needs them: to check
the targets a request names (400 naming the field) and to pick default targets."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import bad_request
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcResource
from flexhub.timeseries import HOURLY
from flexhub.wire.coordination.events import LocationLPCTarget, LPCDataPoint, ResourceLPCTarget


def location_lpc_target(
    location_id: str, meter: str, points: list[LPCDataPoint]
) -> LocationLPCTarget:
    return LocationLPCTarget(
        locationId=location_id, meterPointId=meter, resolution=HOURLY, points=points
    )


def resource_lpc_target(
    resource_id: str, location_id: str, meter: str, points: list[LPCDataPoint]
) -> ResourceLPCTarget:
    return ResourceLPCTarget(
        meterPointId=meter,
        locationId=location_id,
        resourceId=resource_id,
        resolution=HOURLY,
        points=points,
    )


@dataclass
class PartnerData:
    locations: dict[str, EcLocation] = field(default_factory=dict)  # in creation order
    meters: dict[str, list[str]] = field(default_factory=dict)  # location id → meters, in order
    resources: dict[str, EcResource] = field(default_factory=dict)  # in creation order
    first_location: dict[str, str] = field(default_factory=dict)  # user id → location id

    @classmethod
    async def load(cls, session: AsyncSession, tenant_id: str) -> PartnerData:
        data = cls()
        locations = await session.scalars(
            select(EcLocation)
            .where(EcLocation.tenant_id == tenant_id)
            .order_by(EcLocation.created_at, EcLocation.location_id)
        )
        for location in locations.all():
            data.locations[location.location_id] = location
            data.first_location.setdefault(location.user_id, location.location_id)
        meters = await session.execute(
            select(EcLocationMeter.location_id, EcLocationMeter.meter_point_id)
            .where(EcLocationMeter.tenant_id == tenant_id)
            .order_by(EcLocationMeter.position, EcLocationMeter.meter_point_id)
        )
        for location_id, meter in meters.all():
            data.meters.setdefault(location_id, []).append(meter)
        resources = await session.scalars(
            select(EcResource)
            .where(EcResource.tenant_id == tenant_id)
            .order_by(EcResource.created_at, EcResource.resource_id)
        )
        data.resources = {r.resource_id: r for r in resources.all()}
        return data

    def home_of(self, resource: EcResource) -> str | None:
        """A resource's location; a vehicle's is its user's first location."""
        return resource.location_id or self.first_location.get(resource.user_id)

    # -- checks of named targets -----------------------------------------------------------

    def _resource(self, path: str, resource_id: str) -> EcResource:
        resource = self.resources.get(resource_id)
        if resource is None:
            raise bad_request(
                f"{path}.resourceId: resource {resource_id} was not found", f"{path}.resourceId"
            )
        return resource

    def _location(self, path: str, location_id: str) -> EcLocation:
        location = self.locations.get(location_id)
        if location is None:
            raise bad_request(
                f"{path}.locationId: location {location_id} was not found", f"{path}.locationId"
            )
        return location

    def _at(self, path: str, resource: EcResource, location: EcLocation) -> None:
        """A location-bound resource is at its own location; a vehicle at any of its user's."""
        ok = (
            resource.location_id == location.location_id
            if resource.location_id is not None
            else location.user_id == resource.user_id
        )
        if not ok:
            raise bad_request(
                f"{path}.locationId: resource {resource.resource_id} is not at location "
                f"{location.location_id}",
                f"{path}.locationId",
            )

    def _meter(self, path: str, location_id: str, meter: str | None, preferred: str | None) -> str:
        meters = self.meters.get(location_id, [])
        if meter is None:
            meter = preferred if preferred in meters else (meters[0] if meters else None)
            if meter is None:
                raise bad_request(
                    f"{path}.meterPointId: location {location_id} has no meter point id to limit",
                    f"{path}.meterPointId",
                )
        elif meter not in meters:
            raise bad_request(
                f"{path}.meterPointId: {meter} is not a meter point of location {location_id}",
                f"{path}.meterPointId",
            )
        return meter

    def price_target(self, path: str, resource_id: str, location_id: str) -> tuple[str, str]:
        resource = self._resource(path, resource_id)
        self._at(path, resource, self._location(path, location_id))
        return resource_id, location_id

    def location_meter(self, path: str, location_id: str, meter: str | None) -> tuple[str, str]:
        self._location(path, location_id)
        return location_id, self._meter(path, location_id, meter, None)

    def resource_location_meter(
        self, path: str, resource_id: str, location_id: str | None, meter: str | None
    ) -> tuple[str, str, str]:
        resource = self._resource(path, resource_id)
        if location_id is None:
            location_id = self.home_of(resource)
            if location_id is None:
                raise bad_request(
                    f"{path}.locationId: resource {resource_id} has no location; name one",
                    f"{path}.locationId",
                )
        self._at(path, resource, self._location(path, location_id))
        return (
            resource_id,
            location_id,
            self._meter(path, location_id, meter, resource.meter_point_id),
        )

    # -- defaults ----------------------------------------------------------------------------

    def default_location_meters(self) -> list[tuple[str, str]]:
        """Every location with a meter, with its first meter."""
        return [(lid, self.meters[lid][0]) for lid in self.locations if self.meters.get(lid)]

    def default_resource_meters(self) -> list[tuple[str, str, str]]:
        """Every resource whose location has a meter (its own meter when it names one)."""
        out = []
        for resource in self.resources.values():
            location_id = self.home_of(resource)
            meters = self.meters.get(location_id or "", [])
            if location_id is None or not meters:
                continue
            meter = resource.meter_point_id if resource.meter_point_id in meters else meters[0]
            out.append((resource.resource_id, location_id, meter))
        return out

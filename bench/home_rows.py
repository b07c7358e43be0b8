"""Synthetic homes written straight into the Energy Coordination tables with COPY, for the
benchmarks that need a large registered fleet without registering it an API call at a time
(bench/price_curves.py, the soak): per home a user (eligible), a location near a given centre
with one meter point, a hot water tank ``t<u>`` and a charger ``c<u>`` there, and an
enrollment."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg


@dataclass
class HomeRows:
    users: list[tuple] = field(default_factory=list)
    locations: list[tuple] = field(default_factory=list)
    meters: list[tuple] = field(default_factory=list)
    resources: list[tuple] = field(default_factory=list)
    enrolled: list[tuple] = field(default_factory=list)

    def add(
        self,
        tenant: str,
        homes: int,
        centre: Callable[[int], tuple[float, float]],
        meter: Callable[[int], str],
        rng: random.Random,
        now: datetime,
        resources_metered: bool = True,
    ) -> HomeRows:
        """``homes`` homes of ``tenant``: home ``u`` near ``centre(u)``, its meter point
        ``meter(u)`` (named on the resources too when ``resources_metered``)."""
        for u in range(homes):
            lat, lon = centre(u)
            uid, lid, mp = f"u{u}", f"l{u}", meter(u)
            on = mp if resources_metered else None
            self.users.append((tenant, uid, True, False, now))
            self.locations.append(
                (
                    tenant,
                    lid,
                    uid,
                    "Residential",
                    lat + rng.uniform(-0.03, 0.03),
                    lon + rng.uniform(-0.03, 0.03),
                    False,
                    now,
                    now,
                )  # fmt: skip
            )
            self.meters.append((tenant, mp, lid, 0))
            self.resources.append((tenant, f"t{u}", uid, lid, "HotWaterTank", on, False, now))
            self.resources.append((tenant, f"c{u}", uid, lid, "Charger", on, False, now))
            self.enrolled.append((tenant, uid, str(uuid.uuid4()), now))
        return self

    async def copy(self, conn: asyncpg.Connection) -> None:
        """Write every row with COPY, then ANALYZE (the planner sees the new sizes)."""
        copy = conn.copy_records_to_table
        await copy(
            "ec_users", records=self.users,
            columns=["tenant_id", "user_id", "eligible", "simulated", "created_at"],
        )  # fmt: skip
        await copy(
            "ec_locations", records=self.locations,
            columns=["tenant_id", "location_id", "user_id", "location_type", "latitude",
                     "longitude", "simulated", "created_at", "modified_at"],
        )  # fmt: skip
        await copy(
            "ec_location_meters", records=self.meters,
            columns=["tenant_id", "meter_point_id", "location_id", "position"],
        )  # fmt: skip
        await copy(
            "ec_resources", records=self.resources,
            columns=["tenant_id", "resource_id", "user_id", "location_id", "resource_type",
                     "meter_point_id", "simulated", "created_at"],
        )  # fmt: skip
        await copy(
            "ec_enrollments", records=self.enrolled,
            columns=["tenant_id", "user_id", "enrollment_id", "enrolled_at"],
        )  # fmt: skip
        await conn.execute("ANALYZE")

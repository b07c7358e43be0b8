"""The S2 driver: each asset is one S2 resource manager that connects to the agent's CEM
(:class:`~flexhub.agent.protocols.s2.Cem`).

- ``set_schedule`` → FRBC instructions, one per period (the operation mode and factor closest
  to each kW), or on a PEBC resource an envelope holding both limits at the kW;
- ``set_power`` → the same, held from now on; it takes precedence over the schedule, which
  comes back when it is released;
- ``set_limit`` → a PEBC power envelope with the cap as upper limit, or on an FRBC resource its
  schedule (or setpoint) capped: an FRBC resource on its own control cannot be capped, and the
  cap is refused until it has one;
- ``None`` → the resource handed back to its own control (``NO_SELECTION``) once nothing of
  flexhub's is left.

Refusals are ``rejected``; what cannot reach the resource (offline, not described yet, no
answer) is ``pending``: the CEM sends it again in the resource's next session.

Config: ``[drivers.s2]`` ``host``, ``port`` (9100), ``path`` (``/s2``), ``tls_cert`` and
``tls_key`` (``wss://``), ``reception_timeout``, ``ready_timeout``, ``status_timeout``,
``ping_interval``. Per asset (``[assets.options]``): ``resource`` (the id in the RM's URL,
default: the asset id), ``token`` or ``token_env`` (its bearer token), ``prefer``
(``["FRBC", "PEBC"]``: the control type to select when it offers both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from flexhub.agent.drivers.base import (
    AssetSpec,
    AssetState,
    Availability,
    CommandResult,
    MeterReading,
    PowerSchedule,
)
from flexhub.agent.drivers.intent import command_result, horizon_of
from flexhub.agent.drivers.options import listen, secret, timings, unknown_asset
from flexhub.agent.drivers.serving import ServingDriver
from flexhub.agent.protocols.periods import OPEN_END
from flexhub.agent.protocols.s2 import (
    FRBC,
    PEBC,
    Cem,
    InstructionResult,
    ResourceConfig,
    ResourceInfo,
)
from flexhub.clock import Clock

CONTROL_TYPES = {"FRBC": FRBC, "PEBC": PEBC, FRBC: FRBC, PEBC: PEBC}
SHORT = {FRBC: "FRBC", PEBC: "PEBC"}
TIMINGS = {
    "reception_timeout": 5.0,
    "ready_timeout": 5.0,
    "status_timeout": 2.0,
    "ping_interval": 60.0,
}
HEATERS = ("water_heater", "heat_pump")


class S2Driver(ServingDriver[Cem]):
    protocol = "S2"

    def __init__(self, options: Mapping[str, Any], clock: Clock) -> None:
        super().__init__(options, clock)
        self._assets: dict[str, tuple[AssetSpec, str]] = {}  # asset id → (spec, resource id)

    @property
    def cem(self) -> Cem | None:
        return self.server

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self, assets: Sequence[AssetSpec]) -> None:
        address = listen(self.options, "s2", 9100, "/s2")
        resources: dict[str, ResourceConfig] = {}
        for spec in assets:
            where = f"asset {spec.asset_id}"
            resource_id = str(spec.options.get("resource", spec.asset_id))
            if resource_id in resources:
                raise ValueError(f"{where}: resource {resource_id} is another asset's")
            prefer = spec.options.get("prefer", ["FRBC", "PEBC"])
            unknown = [p for p in prefer if p not in CONTROL_TYPES]
            if unknown or not prefer:
                raise ValueError(f"{where}: prefer is a list of FRBC and PEBC, not {prefer!r}")
            resources[resource_id] = ResourceConfig(
                secret(spec.options, "token", where), tuple(CONTROL_TYPES[p] for p in prefer)
            )
            self._assets[spec.asset_id] = (spec, resource_id)
        self.server = Cem(
            address.host,
            address.port,
            resources,
            path=address.path,
            ssl=address.ssl,
            clock=self.clock,
            **timings(self.options, TIMINGS, "s2"),
        )
        await self.server.start()

    # --- commands ------------------------------------------------------------------------

    async def _hold(self, asset_id: str, kw: float) -> CommandResult:
        return _result(await self._server().set_power(self._rid(asset_id), kw))

    async def _follow(self, asset_id: str, schedule: PowerSchedule) -> CommandResult:
        answer = await self._server().apply_schedule(
            self._rid(asset_id), horizon_of(schedule), list(schedule.kw)
        )
        return _result(answer)

    async def _let_go(self, asset_id: str) -> CommandResult:
        return _result(await self._server().clear_schedule(self._rid(asset_id)))

    async def set_limit(self, asset_id: str, max_kw: float | None) -> CommandResult:
        rid = self._rid(asset_id)
        self.intent(asset_id).limit = None if max_kw is None else float(max_kw)
        if max_kw is None:
            return _result(await self._server().release_cap(rid))
        return _result(await self._server().cap(rid, float(max_kw), self.now(), OPEN_END))

    def last_result(self, asset_id: str) -> CommandResult:
        """The resource manager's answer, now, to what this asset was last asked (pending
        becomes accepted once it is sent again in a new session)."""
        answer = self._info(asset_id).last_result
        return _result(answer) if answer is not None else CommandResult("accepted")

    # --- readings ------------------------------------------------------------------------

    def _info(self, asset_id: str) -> ResourceInfo:
        return self._server().resource(self._rid(asset_id))

    async def read_meter(self, asset_id: str) -> MeterReading:
        info = self._info(asset_id)
        return MeterReading(info.imported_kwh, info.exported_kwh, info.measured_at or self.now())

    async def read_state(self, asset_id: str) -> AssetState:
        spec = self._spec(asset_id)
        info = self._info(asset_id)
        power = info.power_kw or 0.0
        if not info.connected:
            word = "offline"
        elif abs(power) < 1e-9:
            word = "idle"
        elif power < 0:
            word = "discharging"
        else:
            word = "heating" if spec.kind in HEATERS else "charging"
        return AssetState(
            power_kw=power if info.connected else 0.0,
            state=word,
            at=info.measured_at or info.updated_at or self.now(),
            soc=_soc(info),
            online=info.connected,
        )

    async def availability(self, asset_id: str) -> Availability:
        spec = self._spec(asset_id)
        info = self._info(asset_id)
        limit = self.intent(asset_id).limit
        top = spec.max_import_kw if limit is None else min(spec.max_import_kw, limit)
        if not info.connected:
            return Availability(False, 0.0, reason="resource offline")
        if not info.available:
            offered = ", ".join(info.control_types) or "no control type"
            return Availability(False, 0.0, reason=f"offers neither FRBC nor PEBC ({offered})")
        offered = "/".join(SHORT[c] for c in info.control_types if c in SHORT)
        reason = f"S2 {offered}" + (f", capped at {limit:g} kW" if limit is not None else "")
        return Availability(True, top, spec.max_export_kw, reason)

    def energy_by_hour(
        self, asset_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> dict[datetime, float]:
        """Net kWh per UTC hour from the resource's power measurements (hours starting in
        [start, end))."""
        return self._server().energy_by_hour(self._rid(asset_id), start, end)

    # --- helpers -------------------------------------------------------------------------

    def _check(self, asset_id: str) -> None:
        self._rid(asset_id)

    def _spec(self, asset_id: str) -> AssetSpec:
        entry = self._assets.get(asset_id)
        if entry is None:
            raise unknown_asset("s2", asset_id)
        return entry[0]

    def _rid(self, asset_id: str) -> str:
        self._spec(asset_id)
        return self._assets[asset_id][1]


def _result(answer: InstructionResult) -> CommandResult:
    reason = answer.reason
    if answer.clipped:
        reason = f"{reason}; {len(answer.clipped)} period(s) beyond the device".lstrip("; ")
    return command_result(answer.outcome.value, reason)


def _soc(info: ResourceInfo) -> float | None:
    """The fill level as a share of its range (kWh of a battery, °C of a tank)."""
    if info.fill_level is None or info.fill_level_range is None:
        return None
    low, high = info.fill_level_range
    if high <= low:
        return None
    return min(1.0, max(0.0, (info.fill_level - low) / (high - low)))

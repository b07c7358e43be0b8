"""The OCPP driver: each asset is one EVSE of a charging station that connects to the agent's
CSMS (:class:`~flexhub.agent.protocols.ocpp.Csms`, OCPP 2.0.1 or 1.6-J).

- ``set_schedule`` → the EVSE's schedule: a TxProfile for the running transaction, else a
  TxDefaultProfile for the next one (and a TxProfile as soon as it starts);
- ``set_power`` → a limit held from now on (the same profiles, one open-ended period); it
  takes precedence over the schedule, which comes back when it is released;
- ``set_limit`` → a ChargingStationMaxProfile on the station (several EVSE assets on one
  station: the sum of their limits, an asset without one counting its maximum);
- ``None`` → ClearChargingProfile of what flexhub set.

What the station refuses is ``rejected``; what cannot reach it (offline, no answer) is
``pending``: the CSMS sends it again when the station reconnects or boots, and
:meth:`OcppDriver.last_result` then says what the station answered.

Config: ``[drivers.ocpp]`` ``host``, ``port`` (9000), ``path`` (``/ocpp``), ``tls_cert`` and
``tls_key`` (security profile 2, ``wss://``), ``heartbeat_interval``, ``response_timeout``,
``ping_interval``, and ``[drivers.ocpp.stations.<station id>]`` tables with what a station's
EVSE assets share (``password`` or ``password_env``, ``rate_unit``, ``voltage``, ``phases``,
``max_periods``, ``stack_level``, ``security_profile``). Per asset (``[assets.options]``):
``station`` (default: the asset id), ``evse`` (default 1), ``max_kw`` (default: the asset's
``max_import_kw``) and any of the station keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from flexhub.agent.drivers.intent import command_result, horizon_of, worst
from flexhub.agent.drivers.options import integer, listen, number, secret, timings, unknown_asset
from flexhub.agent.drivers.serving import ServingDriver
from flexhub.agent.protocols.ocpp import Csms, EvseState, ProfileResult, StationConfig
from flexhub.agent.protocols.periods import OPEN_END
from flexhub.clock import Clock

STATION_KEYS = (
    "password",
    "password_env",
    "rate_unit",
    "voltage",
    "phases",
    "max_periods",
    "stack_level",
    "security_profile",
)
TIMINGS = {
    "heartbeat_interval": 300,
    "response_timeout": 30.0,
    "ping_interval": 60.0,
    "refresh_interval": 30.0,
    "reconnect_grace": 2.0,
}


@dataclass(frozen=True)
class _Evse:
    spec: AssetSpec
    station_id: str
    evse_id: int
    max_kw: float


class OcppDriver(ServingDriver[Csms]):
    protocol = "OCPP"

    def __init__(self, options: Mapping[str, Any], clock: Clock) -> None:
        super().__init__(options, clock)
        self._evses: dict[str, _Evse] = {}

    @property
    def csms(self) -> Csms | None:
        return self.server

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self, assets: Sequence[AssetSpec]) -> None:
        address = listen(self.options, "ocpp", 9000, "/ocpp")
        profile = 2 if address.ssl else 1
        self._evses, settings = _inventory(assets, self.options.get("stations", {}))
        configs = {sid: _station_config(sid, s, profile) for sid, s in settings.items()}
        times = timings(self.options, TIMINGS, "ocpp")
        times["heartbeat_interval"] = int(times["heartbeat_interval"])
        self.server = Csms(
            address.host,
            address.port,
            configs,
            path=address.path,
            ssl=address.ssl,
            clock=self.clock,
            **times,
        )
        await self.server.start()

    # --- commands ------------------------------------------------------------------------

    async def _hold(self, asset_id: str, kw: float) -> CommandResult:
        e = self._evses[asset_id]
        return _result(await self._server().set_power(e.station_id, e.evse_id, kw))

    async def _follow(self, asset_id: str, schedule: PowerSchedule) -> CommandResult:
        e = self._evses[asset_id]
        answer = await self._server().apply_schedule(
            e.station_id, e.evse_id, horizon_of(schedule), list(schedule.kw)
        )
        return _result(answer)

    async def _let_go(self, asset_id: str) -> CommandResult:
        e = self._evses[asset_id]
        return _result(await self._server().release(e.station_id, e.evse_id))

    async def set_limit(self, asset_id: str, max_kw: float | None) -> CommandResult:
        self._check(asset_id)
        if max_kw is not None and max_kw < 0:
            return CommandResult("rejected", "an EV charger's limit cannot be negative")
        self.intent(asset_id).limit = None if max_kw is None else float(max_kw)
        station_id = self._evses[asset_id].station_id
        total = self._station_cap(station_id)
        csms = self._server()
        if total is None:
            return _result(await csms.release_cap(station_id))
        return _result(await csms.cap(station_id, total, self.now(), OPEN_END))

    def _station_cap(self, station_id: str) -> float | None:
        """The station's cap: the sum of its assets' limits (an asset without one counts its
        maximum); None when none of them has a limit."""
        members = [a for a, e in self._evses.items() if e.station_id == station_id]
        limits = [self.intent(a).limit for a in members]
        if all(limit is None for limit in limits):
            return None
        return sum(
            limit if limit is not None else self._evses[a].max_kw
            for a, limit in zip(members, limits, strict=True)
        )

    def last_result(self, asset_id: str) -> CommandResult:
        """What the station has answered, now, about what this asset was asked: its profile
        and the station's cap (pending becomes accepted once a re-send is taken)."""
        e = self._evse(asset_id)
        csms = self._server()
        profile = csms.evse_state(e.station_id, e.evse_id).last_result
        cap = csms.station(e.station_id).cap_result
        return worst(
            _result(profile) if profile else None,
            _result(cap) if cap and self.intent(asset_id).limit is not None else None,
        )

    # --- readings ------------------------------------------------------------------------

    def _state(self, asset_id: str) -> EvseState:
        e = self._evse(asset_id)
        return self._server().evse_state(e.station_id, e.evse_id)

    async def read_meter(self, asset_id: str) -> MeterReading:
        s = self._state(asset_id)
        return MeterReading(s.imported_kwh, s.exported_kwh, s.measured_at or self.now())

    async def read_state(self, asset_id: str) -> AssetState:
        s = self._state(asset_id)
        if not s.connected:
            word = "offline"
        elif not s.plugged:
            word = "unplugged"
        elif s.charging_state == "Charging":
            word = "charging"
        else:
            word = "idle"
        power = s.power_kw if s.power_kw is not None and s.connected and s.plugged else 0.0
        return AssetState(
            power_kw=power,
            state=word,
            at=s.measured_at or s.updated_at or self.now(),
            soc=None if s.soc_percent is None else s.soc_percent / 100,
            online=s.connected,
        )

    async def availability(self, asset_id: str) -> Availability:
        e = self._evse(asset_id)
        s = self._state(asset_id)
        limit = self.intent(asset_id).limit
        top = e.max_kw if e.max_kw > 0 else (limit or 0.0)
        if limit is not None:
            top = min(top, limit)
        if not s.available:
            return Availability(False, 0.0, reason=s.unavailable_reason or "")
        if not s.plugged:
            return Availability(False, 0.0, reason="no vehicle plugged in")
        if e.max_kw <= 0:
            reason = "its maximum is not configured (max_kw)"
        elif limit is not None and limit < e.max_kw:
            reason = f"capped at {limit:g} kW"
        else:
            reason = ""
        return Availability(True, top, 0.0, reason)

    def energy_by_hour(
        self, asset_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> dict[datetime, float]:
        """Net kWh per UTC hour metered on the asset's EVSE (hours starting in [start, end))."""
        e = self._evse(asset_id)
        return self._server().energy_by_hour(e.station_id, e.evse_id, start, end)

    # --- helpers -------------------------------------------------------------------------

    def _check(self, asset_id: str) -> None:
        self._evse(asset_id)

    def _evse(self, asset_id: str) -> _Evse:
        e = self._evses.get(asset_id)
        if e is None:
            raise unknown_asset("ocpp", asset_id)
        return e


def _result(answer: ProfileResult) -> CommandResult:
    return command_result(answer.outcome.value, answer.reason)


def _inventory(
    assets: Sequence[AssetSpec], shared: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, _Evse], dict[str, dict[str, Any]]]:
    """Each asset's EVSE, and each station's settings (its ``[drivers.ocpp.stations]`` table
    with what its assets' options add)."""
    evses: dict[str, _Evse] = {}
    settings: dict[str, dict[str, Any]] = {}
    for spec in assets:
        opts, where = spec.options, f"asset {spec.asset_id}"
        station_id = str(opts.get("station", spec.asset_id))
        evse_id = integer(opts, "evse", 1, where)
        if evse_id < 1:
            raise ValueError(f"{where}: EVSEs are numbered from 1")
        if any((e.station_id, e.evse_id) == (station_id, evse_id) for e in evses.values()):
            raise ValueError(f"{where}: {station_id} EVSE {evse_id} is taken")
        max_kw = number(opts, "max_kw", spec.max_import_kw, where) or 0.0
        evses[spec.asset_id] = _Evse(spec, station_id, evse_id, max_kw)
        station = settings.setdefault(station_id, dict(shared.get(station_id, {})))
        for key in STATION_KEYS:
            if key in opts:
                if key in station and station[key] != opts[key]:
                    raise ValueError(f"station {station_id}: two assets disagree on {key}")
                station[key] = opts[key]
    for station_id in settings:
        members = [e for e in evses.values() if e.station_id == station_id]
        unsized = [e.spec.asset_id for e in members if e.max_kw <= 0]
        if len(members) > 1 and unsized:  # the station's cap is shared by their maxima
            raise ValueError(
                f"station {station_id} has several EVSE assets: each needs max_kw "
                f"(or max_import_kw), {', '.join(unsized)} has none"
            )
    return evses, settings


def _station_config(station_id: str, s: Mapping[str, Any], listener_profile: int) -> StationConfig:
    where = f"station {station_id}"
    profile = integer(s, "security_profile", listener_profile, where)
    if profile == 3:
        raise ValueError(f"{where}: security profile 3 (client certificates) is not supported")
    if profile != listener_profile:
        scheme = "wss:// (tls_cert)" if listener_profile == 2 else "ws:// (no tls_cert)"
        raise ValueError(
            f"{where}: security profile {profile}, but [drivers.ocpp] listens on {scheme}"
        )
    return StationConfig(
        password=secret(s, "password", where),
        rate_unit=str(s.get("rate_unit", "W")),
        voltage=number(s, "voltage", 230.0, where),
        phases=integer(s, "phases", 3, where),
        stack_level=integer(s, "stack_level", 1, where),
        max_periods=integer(s, "max_periods", 1024, where),
    )

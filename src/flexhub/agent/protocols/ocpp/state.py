"""What the CSMS knows of each charging station and EVSE, the configuration it is given per
station, the answers to the profiles it sends and the events it emits.

The ``*Record`` classes are the CSMS's own mutable state; the API hands out frozen snapshots
(:class:`StationInfo`, :class:`EvseState`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from flexhub.agent.protocols.hourly import HourlyEnergy
from flexhub.agent.protocols.periods import Period

OCPP201 = "ocpp2.0.1"
OCPP16 = "ocpp1.6"


@dataclass(frozen=True)
class StationConfig:
    """One station the CSMS accepts: its HTTP Basic password (security profile 1 over ``ws://``,
    2 over ``wss://``) and how it takes limits. ``rate_unit="A"`` for stations that only take
    currents: kW become amperes at ``voltage`` × ``phases``."""

    password: str
    rate_unit: str = "W"
    voltage: float = 230.0
    phases: int = 3
    stack_level: int = 1
    max_periods: int = 1024  # periods per schedule the station takes (2.0.1: PeriodsPerSchedule)

    def __post_init__(self) -> None:
        if self.rate_unit not in ("W", "A"):
            raise ValueError("rate_unit is W or A")
        if not self.password:
            raise ValueError("a station needs a password")
        if self.max_periods < 1 or self.phases < 1 or self.voltage <= 0:
            raise ValueError("max_periods, phases and voltage must be positive")


class Purpose(StrEnum):
    TX = "TxProfile"  # the running transaction on one EVSE
    TX_DEFAULT = "TxDefaultProfile"  # the EVSE's next transactions
    STATION_MAX = "ChargingStationMaxProfile"  # the whole station (a location cap, LPC)


class Outcome(StrEnum):
    ACCEPTED = "Accepted"  # the station took it
    REJECTED = "Rejected"  # the station refused it (reason says why)
    QUEUED = "Queued"  # the station is offline: sent when it reconnects
    FAILED = "Failed"  # no answer (timeout, connection lost): sent again when it reconnects


@dataclass(frozen=True)
class ProfileResult:
    station_id: str
    evse_id: int  # 0: the station
    purpose: Purpose | None  # None for a clear
    profile_id: int | None
    outcome: Outcome
    reason: str = ""
    cleared: bool = False  # the answer to a ClearChargingProfile

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(frozen=True)
class EvseState:
    station_id: str
    evse_id: int
    connected: bool  # the station is online
    status: str | None  # connector status: Available, Occupied, Reserved, Unavailable, Faulted
    plugged: bool  # a vehicle is connected
    transaction_id: str | None
    charging_state: str | None  # Charging, SuspendedEV, SuspendedEVSE, EVConnected, Idle
    power_kw: float | None  # last measured (Power.Active.Import)
    register_kwh: float | None  # last Energy.Active.Import.Register reading
    imported_kwh: float  # all energy accounted by the CSMS (monotonic, survives register resets)
    exported_kwh: float
    soc_percent: float | None
    measured_at: datetime | None
    schedule: tuple[Period, ...]  # what flexhub asked for this EVSE (kW)
    last_result: ProfileResult | None  # the station's last answer about this EVSE's profile
    updated_at: datetime | None

    @property
    def available(self) -> bool:
        return self.connected and self.status not in ("Unavailable", "Faulted")

    @property
    def unavailable_reason(self) -> str | None:
        if not self.connected:
            return "station offline"
        if self.status in ("Unavailable", "Faulted"):
            return f"connector {self.status.lower()}"
        return None


@dataclass(frozen=True)
class StationInfo:
    station_id: str
    connected: bool
    protocol: str | None  # ocpp2.0.1 or ocpp1.6, of the current or last connection
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    booted_at: datetime | None
    connected_since: datetime | None
    last_seen: datetime | None
    evse_ids: tuple[int, ...]
    cap: tuple[Period, ...]  # the station-wide limit flexhub set (kW)
    cap_result: ProfileResult | None


class Link(Protocol):
    """One live connection to a station, whatever its OCPP version."""

    protocol: str

    async def set_profile(self, spec: object, config: StationConfig) -> tuple[bool, str]: ...

    async def clear_profile(self, profile_id: int) -> tuple[bool, str]: ...

    async def close(self) -> None: ...


@dataclass
class EvseRecord:
    evse_id: int
    status: str | None = None
    plugged: bool = False
    transaction_id: str | None = None
    charging_state: str | None = None
    power_kw: float | None = None
    register_kwh: float | None = None
    soc_percent: float | None = None
    measured_at: datetime | None = None
    updated_at: datetime | None = None
    energy: HourlyEnergy = field(default_factory=HourlyEnergy)
    schedule: tuple[Period, ...] = ()
    installed: set[int] = field(default_factory=set)  # profile ids believed on the station
    window: tuple[datetime, datetime] | None = None  # the part of a long schedule last sent
    last_result: ProfileResult | None = None


@dataclass
class StationRecord:
    station_id: str
    config: StationConfig
    link: Link | None = None
    protocol: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    booted_at: datetime | None = None
    connected_since: datetime | None = None
    last_seen: datetime | None = None
    evses: dict[int, EvseRecord] = field(default_factory=dict)
    cap: tuple[Period, ...] = ()
    cap_installed: set[int] = field(default_factory=set)
    cap_window: tuple[datetime, datetime] | None = None
    cap_result: ProfileResult | None = None

    def evse(self, evse_id: int) -> EvseRecord:
        rec = self.evses.get(evse_id)
        if rec is None:
            rec = self.evses[evse_id] = EvseRecord(evse_id)
        return rec

    def info(self) -> StationInfo:
        return StationInfo(
            station_id=self.station_id,
            connected=self.link is not None,
            protocol=self.protocol,
            vendor=self.vendor,
            model=self.model,
            serial_number=self.serial_number,
            firmware_version=self.firmware_version,
            booted_at=self.booted_at,
            connected_since=self.connected_since,
            last_seen=self.last_seen,
            evse_ids=tuple(sorted(k for k in self.evses if k > 0)),
            cap=self.cap,
            cap_result=self.cap_result,
        )

    def evse_state(self, evse_id: int) -> EvseState:
        rec = self.evses.get(evse_id) or EvseRecord(evse_id)
        return EvseState(
            station_id=self.station_id,
            evse_id=evse_id,
            connected=self.link is not None,
            status=rec.status,
            plugged=rec.plugged,
            transaction_id=rec.transaction_id,
            charging_state=rec.charging_state,
            power_kw=rec.power_kw,
            register_kwh=rec.register_kwh,
            imported_kwh=rec.energy.imported_kwh,
            exported_kwh=rec.energy.exported_kwh,
            soc_percent=rec.soc_percent,
            measured_at=rec.measured_at,
            schedule=rec.schedule,
            last_result=rec.last_result,
            updated_at=rec.updated_at,
        )


# --- events (what listeners get) ---------------------------------------------------------


@dataclass(frozen=True)
class StationConnected:
    station_id: str
    protocol: str


@dataclass(frozen=True)
class StationDisconnected:
    station_id: str


@dataclass(frozen=True)
class StationBooted:
    station_id: str
    vendor: str | None
    model: str | None
    reason: str | None


@dataclass(frozen=True)
class EvseChanged:
    """The EVSE's status, plug, transaction or charging state changed."""

    state: EvseState


@dataclass(frozen=True)
class MeterUpdated:
    station_id: str
    evse_id: int
    at: datetime
    power_kw: float | None
    register_kwh: float | None


@dataclass(frozen=True)
class ProfileAnswered:
    """A station answered a SetChargingProfile or ClearChargingProfile (also re-sends)."""

    result: ProfileResult


@dataclass(frozen=True)
class ProfileRejected:
    """A station refused a profile, or no answer came: the schedule is not in force."""

    result: ProfileResult

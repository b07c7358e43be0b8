"""What the CEM knows of each S2 resource, its configuration, the answers to what it sends and
the events it emits. :class:`ResourceRecord` is the CEM's own mutable state; the API hands
out frozen :class:`ResourceInfo` snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from flexhub.agent.protocols.hourly import HourlyEnergy
from flexhub.agent.protocols.periods import Period

FRBC = "FILL_RATE_BASED_CONTROL"
PEBC = "POWER_ENVELOPE_BASED_CONTROL"
NO_SELECTION = "NO_SELECTION"
SUPPORTED = (FRBC, PEBC)


@dataclass(frozen=True)
class ResourceConfig:
    """One resource manager the CEM accepts: the bearer token it connects with and, when it
    offers both, the control type to use (default: FRBC, which follows schedules, before PEBC,
    which only takes envelopes)."""

    token: str
    prefer: tuple[str, ...] = SUPPORTED

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("a resource needs a token")
        if not set(self.prefer) <= set(SUPPORTED):
            raise ValueError(f"control types are among {', '.join(SUPPORTED)}")


class Outcome(StrEnum):
    ACCEPTED = "Accepted"  # received and accepted by the resource manager
    REJECTED = "Rejected"  # refused (reason says why)
    QUEUED = "Queued"  # the resource is offline or not ready: sent once it is
    FAILED = "Failed"  # no answer or connection lost: sent again when it is back


@dataclass(frozen=True)
class InstructionResult:
    resource_id: str
    outcome: Outcome
    control_type: str | None
    instructions: int = 0  # how many instructions were sent
    reason: str = ""
    clipped: tuple[datetime, ...] = ()  # periods (by start) the resource cannot follow fully

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(frozen=True)
class ResourceInfo:
    resource_id: str  # the CEM's name for it (its URL path)
    connected: bool
    rm_resource_id: str | None  # the resource manager's own id (ResourceManagerDetails)
    name: str | None
    manufacturer: str | None
    model: str | None
    roles: tuple[tuple[str, str], ...]  # (role, commodity)
    control_types: tuple[str, ...]  # what the resource manager offers
    control_type: str | None  # the one the CEM selected
    ready: bool  # described itself for that control type (system description / constraints)
    fill_level: float | None  # FRBC storage status
    fill_level_label: str | None
    fill_level_range: tuple[float, float] | None
    power_kw: float | None  # last measured, all electric phases together
    measured_at: datetime | None
    imported_kwh: float
    exported_kwh: float
    schedule: tuple[Period, ...]
    cap: tuple[Period, ...]
    last_result: InstructionResult | None
    updated_at: datetime | None

    @property
    def available(self) -> bool:
        """Online and controllable by flexhub (it offers FRBC or PEBC)."""
        return self.connected and any(c in SUPPORTED for c in self.control_types)


@dataclass
class ResourceRecord:
    resource_id: str
    config: ResourceConfig
    session: Any = None
    rm_details: Any = None  # ResourceManagerDetails
    control_type: str | None = None
    system_description: Any = None  # FRBC.SystemDescription (the last one)
    power_constraints: Any = None  # PEBC.PowerConstraints (the last ones)
    fill_level: float | None = None
    active_modes: dict[str, tuple[str, float]] = field(default_factory=dict)  # actuator → mode
    power_kw: float | None = None
    measured_at: datetime | None = None
    updated_at: datetime | None = None
    energy: HourlyEnergy = field(default_factory=HourlyEnergy)
    schedule: tuple[Period, ...] = ()
    cap: tuple[Period, ...] = ()
    version: int = 0  # bumped whenever flexhub asks something new
    sent_version: int | None = None  # the version this session has been told
    sent: list[Any] = field(default_factory=list)  # instructions in force or to come
    statuses: dict[str, str] = field(default_factory=dict)  # instruction id → status
    last_result: InstructionResult | None = None

    described: str | None = None  # the control type this session's description is for

    @property
    def ready(self) -> bool:
        return self.control_type in SUPPORTED and self.described == self.control_type

    def info(self) -> ResourceInfo:
        rmd = self.rm_details
        storage = self.system_description.storage if self.system_description else None
        return ResourceInfo(
            resource_id=self.resource_id,
            connected=self.session is not None,
            rm_resource_id=str(rmd.resource_id) if rmd else None,
            name=rmd.name if rmd else None,
            manufacturer=rmd.manufacturer if rmd else None,
            model=rmd.model if rmd else None,
            roles=tuple((r.role.value, r.commodity.value) for r in rmd.roles) if rmd else (),
            control_types=tuple(c.value for c in rmd.available_control_types) if rmd else (),
            control_type=self.control_type,
            ready=self.ready,
            fill_level=self.fill_level,
            fill_level_label=storage.fill_level_label if storage else None,
            fill_level_range=(
                (storage.fill_level_range.start_of_range, storage.fill_level_range.end_of_range)
                if storage
                else None
            ),
            power_kw=self.power_kw,
            measured_at=self.measured_at,
            imported_kwh=self.energy.imported_kwh,
            exported_kwh=self.energy.exported_kwh,
            schedule=self.schedule,
            cap=self.cap,
            last_result=self.last_result,
            updated_at=self.updated_at,
        )


# --- events (what listeners get) ---------------------------------------------------------


@dataclass(frozen=True)
class ResourceConnected:
    resource_id: str


@dataclass(frozen=True)
class ResourceDisconnected:
    resource_id: str


@dataclass(frozen=True)
class ResourceReady:
    """The resource manager described itself for the selected control type."""

    resource_id: str
    control_type: str


@dataclass(frozen=True)
class MeasurementReceived:
    resource_id: str
    at: datetime
    power_kw: float


@dataclass(frozen=True)
class StorageUpdated:
    resource_id: str
    fill_level: float


@dataclass(frozen=True)
class InstructionAnswered:
    result: InstructionResult


@dataclass(frozen=True)
class InstructionStatusChanged:
    resource_id: str
    instruction_id: str
    status: str  # NEW, ACCEPTED, REJECTED, REVOKED, STARTED, SUCCEEDED, ABORTED


@dataclass(frozen=True)
class InstructionRejected:
    """A resource manager refused an instruction (or reported it aborted), at once or later
    through an InstructionStatusUpdate."""

    resource_id: str
    instruction_id: str
    status: str
    reason: str = ""

"""How the agent drives assets: the :class:`Driver` protocol (``base``) and the plugin registry
(``registry``: drivers install as entry points in the ``flexhub.drivers`` group)."""

from flexhub.agent.drivers.base import (
    AssetSpec,
    AssetState,
    Availability,
    CommandResult,
    Driver,
    DriverError,
    HourlyMeter,
    MeterReading,
    PowerSchedule,
    ReportsResults,
)
from flexhub.agent.drivers.registry import ENTRY_POINT_GROUP, available_drivers, load_driver

__all__ = [
    "ENTRY_POINT_GROUP",
    "AssetSpec",
    "AssetState",
    "Availability",
    "CommandResult",
    "Driver",
    "DriverError",
    "HourlyMeter",
    "MeterReading",
    "PowerSchedule",
    "ReportsResults",
    "available_drivers",
    "load_driver",
]

"""OCPP charging station management (CSMS side): EV chargers connect to :class:`Csms` and take
the charging profiles that flexhub's schedules and caps become.

    csms = await Csms("0.0.0.0", 9000, {"CP-1": "a-long-password"}).start()
    await csms.apply_schedule("CP-1", 1, horizon, power_kw)   # -> ProfileResult
    await csms.cap("CP-1", 11.0, start, end)                   # ChargingStationMaxProfile
    csms.evse_state("CP-1", 1)                                 # -> EvseState
    csms.energy_by_hour("CP-1", 1)                             # {hour: kWh}
"""

from flexhub.agent.protocols.ocpp.csms import Csms, UnknownStation
from flexhub.agent.protocols.ocpp.state import (
    OCPP16,
    OCPP201,
    EvseChanged,
    EvseState,
    MeterUpdated,
    Outcome,
    ProfileAnswered,
    ProfileRejected,
    ProfileResult,
    Purpose,
    StationBooted,
    StationConfig,
    StationConnected,
    StationDisconnected,
    StationInfo,
)

__all__ = [
    "OCPP16",
    "OCPP201",
    "Csms",
    "EvseChanged",
    "EvseState",
    "MeterUpdated",
    "Outcome",
    "ProfileAnswered",
    "ProfileRejected",
    "ProfileResult",
    "Purpose",
    "StationBooted",
    "StationConfig",
    "StationConnected",
    "StationDisconnected",
    "StationInfo",
    "UnknownStation",
]

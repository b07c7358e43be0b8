"""S2 customer energy management (CEM side): resource managers of home energy devices connect
to :class:`Cem` and take fill-rate based (FRBC) instructions or power envelopes (PEBC).

    cem = await Cem("0.0.0.0", 9100, {"battery-1": "a-long-token"}).start()
    await cem.apply_schedule("battery-1", horizon, power_kw)   # -> InstructionResult
    await cem.cap("ev-1", 3.7, start, end)                      # PEBC envelope
    cem.resource("battery-1")                                   # -> ResourceInfo
    cem.energy_by_hour("battery-1")                             # {hour: kWh}
"""

from flexhub.agent.protocols.s2.cem import Cem, UnknownResource
from flexhub.agent.protocols.s2.state import (
    FRBC,
    NO_SELECTION,
    PEBC,
    InstructionAnswered,
    InstructionRejected,
    InstructionResult,
    InstructionStatusChanged,
    MeasurementReceived,
    Outcome,
    ResourceConfig,
    ResourceConnected,
    ResourceDisconnected,
    ResourceInfo,
    ResourceReady,
    StorageUpdated,
)

__all__ = [
    "FRBC",
    "NO_SELECTION",
    "PEBC",
    "Cem",
    "InstructionAnswered",
    "InstructionRejected",
    "InstructionResult",
    "InstructionStatusChanged",
    "MeasurementReceived",
    "Outcome",
    "ResourceConfig",
    "ResourceConnected",
    "ResourceDisconnected",
    "ResourceInfo",
    "ResourceReady",
    "StorageUpdated",
    "UnknownResource",
]

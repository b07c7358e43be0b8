"""One OCPP 1.6-J connection, CSMS side, on the ``ocpp`` library's 1.6 ``ChargePoint``: the
same records as 2.0.1, read from 1.6 messages. A connector is an EVSE (connector 0 is the
station); 1.6 statuses map to 2.0.1 connector statuses and charging states; the CSMS gives
transaction ids (integers) in ``StartTransaction``; limits are ``csChargingProfiles`` with
``ChargePointMaxProfile`` for the station-wide cap."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
)

from flexhub.agent.protocols.ocpp import meter
from flexhub.agent.protocols.ocpp.profiles import ProfileSpec, iso, parse_time, to_v16
from flexhub.agent.protocols.ocpp.session import Hub, SessionMixin
from flexhub.agent.protocols.ocpp.state import OCPP16, StationConfig, StationRecord

# 1.6 status -> (2.0.1 connector status, charging state, plugged)
_STATUS: dict[str, tuple[str, str | None, bool]] = {
    "Available": ("Available", None, False),
    "Preparing": ("Occupied", "EVConnected", True),
    "Charging": ("Occupied", "Charging", True),
    "SuspendedEVSE": ("Occupied", "SuspendedEVSE", True),
    "SuspendedEV": ("Occupied", "SuspendedEV", True),
    "Finishing": ("Occupied", "EVConnected", True),
    "Reserved": ("Reserved", None, False),
    "Unavailable": ("Unavailable", None, False),
    "Faulted": ("Faulted", None, False),
}
_ACCEPTED = {"status": AuthorizationStatus.accepted.value}


class Session16(SessionMixin, ChargePoint):
    protocol = OCPP16

    def __init__(
        self, record: StationRecord, connection: Any, hub: Hub, response_timeout: float
    ) -> None:
        super().__init__(record.station_id, connection, response_timeout=response_timeout)
        self._init_session(record, hub)
        self._changed: int | None = None  # the connector whose transaction started or ended

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kw: Any):
        self.booted(
            charge_point_vendor,
            charge_point_model,
            kw.get("charge_point_serial_number") or kw.get("charge_box_serial_number"),
            kw.get("firmware_version"),
            None,
        )
        return call_result.BootNotification(
            current_time=iso(self.hub.now()),
            interval=self.hub.heartbeat_interval,
            status=RegistrationStatus.accepted,
        )

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        self.hub.resync(self.record)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any):
        self.seen()
        return call_result.Heartbeat(current_time=iso(self.hub.now()))

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, status: str, **_: Any):
        if connector_id > 0:
            connector_status, charging_state, plugged = _STATUS.get(status, (status, None, False))
            changes: dict[str, Any] = {"status": connector_status, "plugged": plugged}
            evse = self.record.evse(connector_id)
            if evse.transaction_id is not None and charging_state is not None:
                changes["charging_state"] = charging_state
            self.evse_update(connector_id, **changes)
        else:
            self.seen()
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **_: Any):
        self.seen()
        return call_result.Authorize(id_tag_info=dict(_ACCEPTED))

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, meter_start: int, timestamp: str, **_: Any):
        tx_id = self.hub.new_transaction_id()
        at = parse_time(timestamp) or self.hub.now()
        self.metered(connector_id, [meter.Reading(at=at, import_kwh=meter_start / 1000)])
        self.evse_update(
            connector_id, transaction_id=str(tx_id), plugged=True, charging_state="Charging"
        )
        self._changed = connector_id
        return call_result.StartTransaction(transaction_id=tx_id, id_tag_info=dict(_ACCEPTED))

    @after(Action.start_transaction)
    def after_start_transaction(self, **_: Any) -> None:
        if self._changed is not None:
            self.hub.transaction_changed(self.record, self._changed)
            self._changed = None

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        transaction_data: list | None = None,
        **_: Any,
    ):
        evse_id = self.evse_of_transaction(str(transaction_id))
        if evse_id is not None:
            at = parse_time(timestamp) or self.hub.now()
            readings = meter.read(transaction_data)
            readings.append(meter.Reading(at=at, import_kwh=meter_stop / 1000))
            self.metered(evse_id, readings)
            self.evse_update(evse_id, transaction_id=None, charging_state=None)
            self._changed = evse_id
        else:
            self.seen()
        return call_result.StopTransaction(id_tag_info=dict(_ACCEPTED))

    @after(Action.stop_transaction)
    def after_stop_transaction(self, **_: Any) -> None:
        self.after_start_transaction()

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list, **_: Any):
        self.metered(connector_id, meter.read(meter_value))
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any):
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any):
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **_: Any):
        return call_result.DiagnosticsStatusNotification()

    async def set_profile(self, spec: ProfileSpec, config: StationConfig) -> tuple[bool, str]:
        request = call.SetChargingProfile(
            connector_id=spec.evse_id, cs_charging_profiles=to_v16(spec, config)
        )
        try:
            answer = await self.ask(request)
        except OCPPError as error:
            return False, f"{type(error).__name__}: {error.description}"
        except TypeError as error:  # an answer with fields the message does not have
            return False, f"malformed answer: {error}"
        accepted = answer.status == "Accepted"
        return accepted, "" if accepted else answer.status

    async def clear_profile(self, profile_id: int) -> tuple[bool, str]:
        try:
            answer = await self.ask(call.ClearChargingProfile(id=profile_id))
        except OCPPError as error:
            return False, f"{type(error).__name__}: {error.description}"
        except TypeError as error:  # an answer with fields the message does not have
            return False, f"malformed answer: {error}"
        return answer.status in ("Accepted", "Unknown"), answer.status

"""One OCPP 2.0.1 connection, CSMS side, on the ``ocpp`` library's ``ChargePoint``.

What a station sends updates its record: ``BootNotification`` (accepted; then what flexhub
wants in force is sent again), ``StatusNotification`` (connector status, Occupied = a vehicle
is plugged), ``TransactionEvent`` (transaction, charging state, meter values; a new
transaction gets the EVSE's schedule as a TxProfile), ``MeterValues``. Every id token is
accepted: authorization is not what flexhub manages. Calls: ``SetChargingProfile`` and
``ClearChargingProfile``.
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    ChargingStateEnumType,
    DataTransferStatusEnumType,
    RegistrationStatusEnumType,
    TransactionEventEnumType,
)

from flexhub.agent.protocols.ocpp import meter
from flexhub.agent.protocols.ocpp.profiles import ProfileSpec, iso, to_v201
from flexhub.agent.protocols.ocpp.session import Hub, SessionMixin
from flexhub.agent.protocols.ocpp.state import OCPP201, StationConfig, StationRecord

_PLUGGED_STATES = {
    ChargingStateEnumType.charging.value,
    ChargingStateEnumType.ev_connected.value,
    ChargingStateEnumType.suspended_ev.value,
    ChargingStateEnumType.suspended_evse.value,
}
_ACCEPTED = {"status": AuthorizationStatusEnumType.accepted.value}


def _reason(status_info: dict[str, Any] | None) -> str:
    if not status_info:
        return ""
    extra = status_info.get("additional_info")
    return status_info.get("reason_code", "") + (f": {extra}" if extra else "")


class Session201(SessionMixin, ChargePoint):
    protocol = OCPP201

    def __init__(
        self, record: StationRecord, connection: Any, hub: Hub, response_timeout: float
    ) -> None:
        super().__init__(record.station_id, connection, response_timeout=response_timeout)
        self._init_session(record, hub)
        self._changed: set[int] = set()  # EVSEs whose transaction started or ended

    # --- from the station ----------------------------------------------------------------

    @on(Action.boot_notification)
    def on_boot_notification(self, charging_station: dict, reason: str, **_: Any):
        self.booted(
            charging_station.get("vendor_name"),
            charging_station.get("model"),
            charging_station.get("serial_number"),
            charging_station.get("firmware_version"),
            reason,
        )
        return call_result.BootNotification(
            current_time=iso(self.hub.now()),
            interval=self.hub.heartbeat_interval,
            status=RegistrationStatusEnumType.accepted,
        )

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        self.hub.resync(self.record)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any):
        self.seen()
        return call_result.Heartbeat(current_time=iso(self.hub.now()))

    @on(Action.status_notification)
    def on_status_notification(self, connector_status: str, evse_id: int, **_: Any):
        changes: dict[str, Any] = {"status": connector_status}
        if connector_status == "Occupied":
            changes["plugged"] = True
        elif connector_status == "Available":
            changes["plugged"] = False
        self.evse_update(evse_id, **changes)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **_: Any):
        self.seen()
        return call_result.Authorize(id_token_info=dict(_ACCEPTED))

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        transaction_info: dict,
        meter_value: list | None = None,
        evse: dict | None = None,
        id_token: dict | None = None,
        **_: Any,
    ):
        tx_id = transaction_info["transaction_id"]
        evse_id = evse["id"] if evse else self.evse_of_transaction(tx_id)
        if evse_id is not None:
            self.metered(evse_id, meter.read(meter_value))
            state = transaction_info.get("charging_state")
            if event_type == TransactionEventEnumType.ended.value:
                changes: dict[str, Any] = {"charging_state": state}
                if self.record.evse(evse_id).transaction_id in (tx_id, None):
                    changes["transaction_id"] = None
                    self._changed.add(evse_id)
                if state is not None:
                    changes["plugged"] = state in _PLUGGED_STATES
                self.evse_update(evse_id, **changes)
            else:
                if self.record.evse(evse_id).transaction_id != tx_id:
                    self._changed.add(evse_id)
                changes = {"transaction_id": tx_id}
                if state is not None:
                    changes["charging_state"] = state
                    changes["plugged"] = state in _PLUGGED_STATES
                self.evse_update(evse_id, **changes)
        else:
            self.seen()
        if id_token:
            return call_result.TransactionEvent(id_token_info=dict(_ACCEPTED))
        return call_result.TransactionEvent()

    @after(Action.transaction_event)
    def after_transaction_event(self, **_: Any) -> None:
        for evse_id in sorted(self._changed):
            self.hub.transaction_changed(self.record, evse_id)
        self._changed.clear()

    @on(Action.meter_values)
    def on_meter_values(self, evse_id: int, meter_value: list, **_: Any):
        self.metered(evse_id, meter.read(meter_value))
        return call_result.MeterValues()

    @on(Action.notify_event)
    def on_notify_event(self, **_: Any):
        self.seen()
        return call_result.NotifyEvent()

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any):
        return call_result.NotifyReport()

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **_: Any):
        return call_result.SecurityEventNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any):
        return call_result.FirmwareStatusNotification()

    @on(Action.notify_charging_limit)
    def on_notify_charging_limit(self, **_: Any):
        return call_result.NotifyChargingLimit()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any):
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    # --- to the station ------------------------------------------------------------------

    async def set_profile(self, spec: ProfileSpec, config: StationConfig) -> tuple[bool, str]:
        profile = to_v201(spec, config)
        request = call.SetChargingProfile(evse_id=spec.evse_id, charging_profile=profile)
        try:
            answer = await self.ask(request)
        except OCPPError as error:
            return False, f"{type(error).__name__}: {error.description}"
        except TypeError as error:  # an answer with fields the message does not have
            return False, f"malformed answer: {error}"
        accepted = answer.status == "Accepted"
        return accepted, _reason(answer.status_info) or ("" if accepted else answer.status)

    async def clear_profile(self, profile_id: int) -> tuple[bool, str]:
        request = call.ClearChargingProfile(charging_profile_id=profile_id)
        try:
            answer = await self.ask(request)
        except OCPPError as error:
            return False, f"{type(error).__name__}: {error.description}"
        except TypeError as error:  # an answer with fields the message does not have
            return False, f"malformed answer: {error}"
        # Unknown: the station has no such profile, which is what a clear wants
        return answer.status in ("Accepted", "Unknown"), answer.status

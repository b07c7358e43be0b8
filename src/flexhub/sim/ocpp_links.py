"""The simulated station's two OCPP dialects, on the ``ocpp`` library's ``ChargePoint``: the
messages it sends (built from the station's state at the moment they happen) and the
handlers for what the CSMS asks (``SetChargingProfile``, ``ClearChargingProfile``).

- 2.0.1: the station names transactions; plug-in → ``TransactionEvent`` Started
  (CablePluggedIn) and ``Authorize``; charging state changes and periodic meter values →
  ``TransactionEvent`` Updated; departure → Ended; meter values outside a transaction →
  ``MeterValues``.
- 1.6: ``StatusNotification`` Preparing → ``Authorize`` → ``StartTransaction`` (the CSMS names
  the transaction) → charging states as ``StatusNotification`` → ``StopTransaction``; meter
  values in ``MeterValues``. A transaction the CSMS has not named yet (offline) does not charge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from flexhub.sim.ocpp_profiles import Profile

# the station and its EVSEs (flexhub.sim.ocpp_station, which imports this module)
SimStation = Any
SimEvse = Any

OCPP201 = "ocpp2.0.1"
OCPP16 = "ocpp1.6"
Build = Callable[[], Any]


class _Quiet(logging.LoggerAdapter):
    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


QUIET = _Quiet(logging.getLogger("flexhub.sim.ocpp.wire"), {})


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _split(reason: str) -> dict[str, str] | None:
    if not reason:
        return None
    code, _, info = reason.partition(": ")
    return {"reason_code": code[:20], **({"additional_info": info[:512]} if info else {})}


class Link201(ChargePoint201):
    protocol = OCPP201

    def __init__(self, station: SimStation, ws: Any) -> None:
        super().__init__(station.station_id, ws, response_timeout=30, logger=QUIET)
        self.station = station

    async def boot(self) -> float:
        """BootNotification until accepted; the heartbeat interval (seconds)."""
        request = call201.BootNotification(
            charging_station={"vendor_name": self.station.vendor, "model": self.station.model},
            reason="PowerUp",
        )
        while True:
            answer = await self.call(request, suppress=False)
            if answer.status == "Accepted":
                return float(answer.interval)
            await asyncio.sleep(max(1, answer.interval))

    @staticmethod
    def heartbeat() -> Any:
        return call201.Heartbeat()

    @staticmethod
    def status(evse: SimEvse, t: datetime) -> Build:
        status = "Occupied" if evse.status == "Occupied" else evse.status
        evse_id = evse.evse_id
        return lambda: call201.StatusNotification(
            timestamp=iso(t), connector_status=status, evse_id=evse_id, connector_id=1
        )

    @staticmethod
    def _meter_value(evse: SimEvse, t: datetime, context: str) -> list[dict]:
        samples: list[dict] = [
            {
                "value": round(evse.register_wh, 3),
                "measurand": "Energy.Active.Import.Register",
                "context": context,
                "unit_of_measure": {"unit": "Wh"},
            },
            {
                "value": round(evse.power_kw * 1000, 1),
                "measurand": "Power.Active.Import",
                "context": context,
                "unit_of_measure": {"unit": "W"},
            },
        ]
        soc = evse.soc_percent
        if soc is not None:
            samples.append(
                {
                    "value": round(soc, 2),
                    "measurand": "SoC",
                    "context": context,
                    "location": "EV",
                    "unit_of_measure": {"unit": "Percent"},
                }
            )
        return [{"timestamp": iso(t), "sampled_value": samples}]

    @classmethod
    def _event(
        cls,
        station: SimStation,
        evse: SimEvse,
        t: datetime,
        offline: bool,
        event_type: str,
        trigger: str,
        context: str,
        **info: Any,
    ) -> Build:
        seq = evse.tx_seq
        evse.tx_seq += 1
        transaction_info = {"transaction_id": evse.transaction_id, **info}
        meter_value = cls._meter_value(evse, t, context)
        evse_ref = {"id": evse.evse_id, "connector_id": 1}
        token = {"id_token": station.id_token, "type": "ISO14443"}
        return lambda: call201.TransactionEvent(
            event_type=event_type,
            timestamp=iso(t),
            trigger_reason=trigger,
            seq_no=seq,
            transaction_info=transaction_info,
            meter_value=meter_value,
            evse=evse_ref,
            id_token=token if event_type == "Started" else None,
            offline=True if offline else None,
        )

    @classmethod
    def begin_transaction(
        cls, station: SimStation, evse: SimEvse, t: datetime, offline: bool
    ) -> list[tuple[Build, Callable[[Any], None] | None]]:
        evse.transaction_id = station.new_transaction_id()
        started = cls._event(
            station,
            evse,
            t,
            offline,
            "Started",
            "CablePluggedIn",
            "Transaction.Begin",
            charging_state="EVConnected",
        )
        out: list[tuple[Build, Callable[[Any], None] | None]] = [(started, None)]
        if not offline:
            token = {"id_token": station.id_token, "type": "ISO14443"}

            def authorized(answer: Any) -> None:
                evse.authorized = answer.id_token_info.get("status") == "Accepted"

            out.append((lambda: call201.Authorize(id_token=token), authorized))
        return out

    @classmethod
    def end_transaction(
        cls, station: SimStation, evse: SimEvse, t: datetime, reason: str, offline: bool
    ) -> list[Build]:
        trigger = "EVDeparted" if reason == "EVDisconnected" else "AbnormalCondition"
        return [
            cls._event(
                station,
                evse,
                t,
                offline,
                "Ended",
                trigger,
                "Transaction.End",
                charging_state="Idle",
                stopped_reason=reason,
            )
        ]

    @classmethod
    def charging_state(cls, station: SimStation, evse: SimEvse, t: datetime, offline: bool):
        return cls._event(
            station,
            evse,
            t,
            offline,
            "Updated",
            "ChargingStateChanged",
            "Sample.Periodic",
            charging_state=evse.charging_state,
        )

    @classmethod
    def meter(cls, station: SimStation, evse: SimEvse, t: datetime, offline: bool) -> Build:
        if evse.transaction_id is not None:
            return cls._event(
                station, evse, t, offline, "Updated", "MeterValuePeriodic", "Sample.Periodic"
            )
        meter_value = cls._meter_value(evse, t, "Sample.Clock")
        evse_id = evse.evse_id
        return lambda: call201.MeterValues(evse_id=evse_id, meter_value=meter_value)

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict, **_: Any):
        schedule = charging_profile["charging_schedule"][0]
        periods = schedule["charging_schedule_period"]
        profile = Profile(
            id=charging_profile["id"],
            evse_id=evse_id,
            purpose=charging_profile["charging_profile_purpose"],
            stack_level=charging_profile["stack_level"],
            kind=charging_profile["charging_profile_kind"],
            unit=schedule["charging_rate_unit"],
            offsets=[p["start_period"] for p in periods],
            limits=[float(p["limit"]) for p in periods],
            start=parse_time(schedule.get("start_schedule")),
            duration=schedule.get("duration"),
            transaction_id=charging_profile.get("transaction_id"),
            phases=periods[0].get("number_phases"),
            valid_from=parse_time(charging_profile.get("valid_from")),
            valid_to=parse_time(charging_profile.get("valid_to")),
        )
        ok, reason = self.station.take_profile(profile)
        return result201.SetChargingProfile(
            status="Accepted" if ok else "Rejected", status_info=_split(reason)
        )

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict | None = None,
        **_: Any,
    ):
        criteria = charging_profile_criteria or {}
        found = self.station.book.clear(
            charging_profile_id,
            criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"),
            criteria.get("stack_level"),
        )
        return result201.ClearChargingProfile(status="Accepted" if found else "Unknown")


class Link16(ChargePoint16):
    protocol = OCPP16

    def __init__(self, station: SimStation, ws: Any) -> None:
        super().__init__(station.station_id, ws, response_timeout=30, logger=QUIET)
        self.station = station

    async def boot(self) -> float:
        request = call16.BootNotification(
            charge_point_model=self.station.model, charge_point_vendor=self.station.vendor
        )
        while True:
            answer = await self.call(request, suppress=False)
            if answer.status == "Accepted":
                return float(answer.interval)
            await asyncio.sleep(max(1, answer.interval))

    @staticmethod
    def heartbeat() -> Any:
        return call16.Heartbeat()

    @staticmethod
    def status(evse: SimEvse, t: datetime) -> Build:
        if evse.status == "Occupied":
            status = evse.charging_state if evse.transaction_id else "Preparing"
            if status in ("EVConnected", "Idle"):
                status = "Preparing"
        else:
            status = evse.status
        evse_id = evse.evse_id
        return lambda: call16.StatusNotification(
            connector_id=evse_id, error_code="NoError", status=status, timestamp=iso(t)
        )

    @staticmethod
    def _meter_value(evse: SimEvse, t: datetime) -> list[dict]:
        samples = [
            {
                "value": f"{evse.register_wh:.3f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            },
            {
                "value": f"{evse.power_kw * 1000:.1f}",
                "measurand": "Power.Active.Import",
                "unit": "W",
            },
        ]
        soc = evse.soc_percent
        if soc is not None:
            samples.append(
                {"value": f"{soc:.2f}", "measurand": "SoC", "location": "EV", "unit": "Percent"}
            )
        return [{"timestamp": iso(t), "sampled_value": samples}]

    @classmethod
    def begin_transaction(
        cls, station: SimStation, evse: SimEvse, t: datetime, offline: bool
    ) -> list[tuple[Build, Callable[[Any], None] | None]]:
        evse.authorized = False
        meter_start = round(evse.register_wh)
        evse_id, tag = evse.evse_id, station.id_token

        def started(answer: Any) -> None:
            evse.transaction_id = str(answer.transaction_id)
            evse.authorized = answer.id_tag_info.get("status") == "Accepted"

        return [
            (lambda: call16.Authorize(id_tag=tag), None),
            (
                lambda: call16.StartTransaction(
                    connector_id=evse_id, id_tag=tag, meter_start=meter_start, timestamp=iso(t)
                ),
                started,
            ),
        ]

    @classmethod
    def end_transaction(
        cls, station: SimStation, evse: SimEvse, t: datetime, reason: str, offline: bool
    ) -> list[Build]:
        if evse.transaction_id is None:
            return []
        tx, meter_stop = int(evse.transaction_id), round(evse.register_wh)
        data = cls._meter_value(evse, t)
        return [
            lambda: call16.StopTransaction(
                meter_stop=meter_stop,
                timestamp=iso(t),
                transaction_id=tx,
                reason=reason,
                transaction_data=data,
            )
        ]

    @classmethod
    def charging_state(cls, station: SimStation, evse: SimEvse, t: datetime, offline: bool):
        return cls.status(evse, t)

    @classmethod
    def meter(cls, station: SimStation, evse: SimEvse, t: datetime, offline: bool) -> Build:
        tx = int(evse.transaction_id) if evse.transaction_id else None
        evse_id, meter_value = evse.evse_id, cls._meter_value(evse, t)
        return lambda: call16.MeterValues(
            connector_id=evse_id, meter_value=meter_value, transaction_id=tx
        )

    @on("SetChargingProfile")
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict, **_: Any):
        p = cs_charging_profiles
        schedule = p["charging_schedule"]
        periods = schedule["charging_schedule_period"]
        tx = p.get("transaction_id")
        profile = Profile(
            id=p["charging_profile_id"],
            evse_id=connector_id,
            purpose=p["charging_profile_purpose"],
            stack_level=p["stack_level"],
            kind=p["charging_profile_kind"],
            unit=schedule["charging_rate_unit"],
            offsets=[q["start_period"] for q in periods],
            limits=[float(q["limit"]) for q in periods],
            start=parse_time(schedule.get("start_schedule")),
            duration=schedule.get("duration"),
            transaction_id=str(tx) if tx is not None else None,
            phases=periods[0].get("number_phases"),
            valid_from=parse_time(p.get("valid_from")),
            valid_to=parse_time(p.get("valid_to")),
        )
        ok, _reason = self.station.take_profile(profile)
        return result16.SetChargingProfile(status="Accepted" if ok else "Rejected")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ):
        found = self.station.book.clear(id, connector_id, charging_profile_purpose, stack_level)
        return result16.ClearChargingProfile(status="Accepted" if found else "Unknown")


LINKS: dict[str, type[Link201] | type[Link16]] = {OCPP201: Link201, OCPP16: Link16}

"""What both OCPP versions' connections do with what a station tells: the station's and each
EVSE's record kept up to date, events emitted, and calls to the station guarded against the
connection going away (an answer that can no longer come fails at once, not after the
response timeout)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from websockets.exceptions import ConnectionClosed

from flexhub.agent.protocols.ocpp.meter import Reading
from flexhub.agent.protocols.ocpp.state import (
    EvseChanged,
    MeterUpdated,
    StationBooted,
    StationRecord,
)

T = TypeVar("T")


class ConnectionLost(Exception):
    """The connection closed before the station answered."""


class Hub(Protocol):
    """What a connection needs of the CSMS."""

    heartbeat_interval: int

    def now(self) -> datetime: ...

    def emit(self, event: object) -> None: ...

    def resync(self, record: StationRecord) -> None:
        """Put what flexhub wants in force on the station again (after a boot)."""

    def transaction_changed(self, record: StationRecord, evse_id: int) -> None:
        """A transaction started or ended on the EVSE: send its schedule again, as a
        TxProfile for the new transaction or a TxDefaultProfile for the next one."""

    def new_transaction_id(self) -> int:
        """A fresh transaction id (OCPP 1.6, where the CSMS gives them)."""


class SessionMixin:
    """Mixed into each version's ``ChargePoint``: ``record`` and ``hub`` are set by
    :meth:`_init_session`; ``_connection`` is the library's WebSocket."""

    protocol: str
    record: StationRecord
    hub: Hub
    _connection: Any

    def _init_session(self, record: StationRecord, hub: Hub) -> None:
        self.record = record
        self.hub = hub

    # --- what the station says ----------------------------------------------------------

    def seen(self) -> None:
        self.record.last_seen = self.hub.now()

    def booted(
        self,
        vendor: str | None,
        model: str | None,
        serial_number: str | None,
        firmware_version: str | None,
        reason: str | None,
    ) -> None:
        rec = self.record
        rec.vendor, rec.model = vendor, model
        rec.serial_number, rec.firmware_version = serial_number, firmware_version
        rec.booted_at = rec.last_seen = self.hub.now()
        for evse in rec.evses.values():  # a boot ends every transaction
            evse.transaction_id = None
        self.hub.emit(StationBooted(rec.station_id, vendor, model, reason))

    def evse_update(self, evse_id: int, **changes: Any) -> None:
        """Set an EVSE's fields; emits :class:`EvseChanged` when one of them changed."""
        self.seen()
        evse = self.record.evse(evse_id)
        changed = False
        for name, value in changes.items():
            if getattr(evse, name) != value:
                setattr(evse, name, value)
                changed = True
        if changed:
            evse.updated_at = self.hub.now()
            self.hub.emit(EvseChanged(self.record.evse_state(evse_id)))

    def metered(self, evse_id: int, readings: list[Reading]) -> None:
        self.seen()
        if not readings:
            return
        evse = self.record.evse(evse_id)
        for r in sorted(readings, key=lambda r: r.at):
            if r.import_kwh is not None:
                evse.energy.register(r.at, r.import_kwh, "import")
                evse.register_kwh = r.import_kwh
            if r.export_kwh is not None:
                evse.energy.register(r.at, r.export_kwh, "export")
            if evse.measured_at is None or r.at >= evse.measured_at:
                if r.power_kw is not None:
                    evse.power_kw = r.power_kw
                if r.soc_percent is not None:
                    evse.soc_percent = r.soc_percent
                evse.measured_at = r.at
            self.hub.emit(
                MeterUpdated(self.record.station_id, evse_id, r.at, r.power_kw, r.import_kwh)
            )

    def evse_of_transaction(self, transaction_id: str) -> int | None:
        for evse_id, evse in self.record.evses.items():
            if evse.transaction_id == transaction_id:
                return evse_id
        return None

    # --- calls to the station ------------------------------------------------------------
    # flexhub's own requests are built from the library's types and checked by the tests
    # against the schemas (the simulated station validates what it receives); the CSMS skips
    # validating them, and the answers, on every call: it is most of the cost of a call.

    async def ask(self, request: Any) -> Any:
        """The station's answer to one of flexhub's requests (not validated, see above)."""
        call = self.call  # type: ignore[attr-defined]  (the library's ChargePoint)
        return await self.guarded(call(request, suppress=False, skip_schema_validation=True))

    async def guarded(self, call: Awaitable[T]) -> T:
        """``call``'s answer, or :class:`ConnectionLost` as soon as the connection closes."""
        task = asyncio.ensure_future(call)
        closed = asyncio.ensure_future(self._connection.wait_closed())
        try:
            await asyncio.wait({task, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if not task.done():
            task.cancel()
            raise ConnectionLost(self.record.station_id)
        try:
            return task.result()
        except ConnectionClosed as exc:
            raise ConnectionLost(self.record.station_id) from exc

    async def close(self) -> None:
        await self._connection.close()

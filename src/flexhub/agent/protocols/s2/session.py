"""One S2 connection, CEM side, on s2-python's ``S2AsyncConnection`` over the server end of a
WebSocket.

Both sides open with a ``Handshake``; the CEM answers the resource manager's with a
``HandshakeResponse`` (the version), reads ``ResourceManagerDetails`` and lets the CEM (the
:class:`Hub`) decide which control type to select. Every message is acknowledged
(``ReceptionStatus``); what the CEM keeps is read from ``FRBC.SystemDescription``,
``FRBC.StorageStatus``, ``FRBC.ActuatorStatus``, ``PEBC.PowerConstraints``,
``PowerMeasurement`` and ``InstructionStatusUpdate``.

Handlers never wait for the other side: whatever has to be sent in answer is sent from a task,
since the resource manager may itself be waiting for an acknowledgement this connection has
not yet given.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, Protocol

from s2python.common import (
    ControlType,
    EnergyManagementRole,
    Handshake,
    HandshakeResponse,
    InstructionStatusUpdate,
    PowerMeasurement,
    ReceptionStatus,
    ResourceManagerDetails,
    SelectControlType,
    SessionRequest,
)
from s2python.connection.async_ import S2AsyncConnection
from s2python.connection.async_.medium.s2_medium import (
    MediumClosedConnectionError,
    S2AsyncMediumConnection,
)
from s2python.connection.connection_events import ConnectionStarted, ConnectionStopped
from s2python.frbc import FRBCActuatorStatus, FRBCStorageStatus, FRBCSystemDescription
from s2python.message import S2Message
from s2python.pebc import PEBCPowerConstraints
from s2python.s2_parser import TYPE_TO_MESSAGE_CLASS
from s2python.version import S2_VERSION
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from flexhub.agent.protocols.s2.frbc import ELECTRIC
from flexhub.agent.protocols.s2.state import (
    FRBC,
    PEBC,
    MeasurementReceived,
    ResourceReady,
    ResourceRecord,
    StorageUpdated,
)

log = logging.getLogger(__name__)
FINAL = {"REJECTED", "REVOKED", "SUCCEEDED", "ABORTED"}


class Hub(Protocol):
    reception_timeout: float

    def now(self) -> datetime: ...

    def emit(self, event: object) -> None: ...

    def described(self, record: ResourceRecord) -> None:
        """ResourceManagerDetails arrived: select a control type."""

    def ready(self, record: ResourceRecord) -> None:
        """The resource described itself for the selected control type: send what is due."""

    def status_changed(self, record: ResourceRecord, instruction_id: str, status: str) -> None:
        """An instruction's status changed."""


class ServerMedium(S2AsyncMediumConnection):
    """The server end of a WebSocket, as s2-python's medium."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self._closed = False

    async def is_connected(self) -> bool:
        return not self._closed

    async def messages(self) -> AsyncGenerator[str | bytes, None]:
        try:
            async for message in self.ws:
                yield message
        except ConnectionClosed as exc:
            raise MediumClosedConnectionError(str(exc)) from exc
        finally:
            self._closed = True

    async def send(self, message: str) -> None:
        try:
            await self.ws.send(message)
        except ConnectionClosed as exc:
            self._closed = True
            raise MediumClosedConnectionError(str(exc)) from exc


def _control(value: Any) -> str:
    return value.value if hasattr(value, "value") else str(value)


class CemSession:
    def __init__(self, record: ResourceRecord, ws: ServerConnection, hub: Hub) -> None:
        self.record, self.ws, self.hub = record, ws, hub
        self.connection = S2AsyncConnection(ServerMedium(ws))
        self._tasks: set[asyncio.Task] = set()
        for message_type in TYPE_TO_MESSAGE_CLASS.values():
            if message_type is not ReceptionStatus:
                self.connection.register_handler(message_type, self._ok)
        for message_type, handler in {
            Handshake: self._on_handshake,
            ResourceManagerDetails: self._on_details,
            FRBCSystemDescription: self._on_system_description,
            FRBCStorageStatus: self._on_storage_status,
            FRBCActuatorStatus: self._on_actuator_status,
            PEBCPowerConstraints: self._on_power_constraints,
            PowerMeasurement: self._on_measurement,
            InstructionStatusUpdate: self._on_status,
            SessionRequest: self._on_session_request,
            ConnectionStarted: self._on_started,
            ConnectionStopped: self._on_stopped,
        }.items():
            self.connection.register_handler(message_type, handler)

    async def run(self) -> None:
        await self.connection.run()

    async def close(self) -> None:
        await self.connection.stop()
        await self.ws.close()

    async def send(self, message: Any) -> ReceptionStatus:
        """Send and wait for the resource manager's acknowledgement (any status)."""
        return await self.connection.send_msg_and_await_reception_status(
            message, timeout_reception_status=self.hub.reception_timeout, raise_on_error=False
        )

    async def select(self, control_type: str) -> ReceptionStatus:
        rec = self.record
        rec.control_type = control_type
        rec.described = None  # a fresh description follows
        rec.active_modes.clear()
        return await self.send(
            SelectControlType(message_id=uuid.uuid4(), control_type=ControlType(control_type))
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: %s", self.record.resource_id, task.exception())

    def _touch(self) -> None:
        self.record.updated_at = self.hub.now()

    # --- handlers ------------------------------------------------------------------------

    async def _ok(self, _: S2AsyncConnection, message: S2Message, send_okay: Any) -> None:
        await send_okay()

    async def _on_handshake(self, _: S2AsyncConnection, message: Any, send_okay: Any) -> None:
        await send_okay()
        if message.role != EnergyManagementRole.RM:
            return
        offered = message.supported_protocol_versions or [S2_VERSION]
        version = S2_VERSION if S2_VERSION in offered else offered[0]
        self._spawn(
            self.send(HandshakeResponse(message_id=uuid.uuid4(), selected_protocol_version=version))
        )

    async def _on_details(self, _: S2AsyncConnection, message: Any, send_okay: Any) -> None:
        await send_okay()
        self.record.rm_details = message
        self._touch()
        self.hub.described(self.record)

    async def _on_system_description(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        if self.record.control_type != FRBC:
            return
        self.record.system_description = message
        self.record.described = FRBC
        self._touch()
        self.hub.emit(ResourceReady(self.record.resource_id, FRBC))
        self.hub.ready(self.record)

    async def _on_power_constraints(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        if self.record.control_type != PEBC:
            return
        self.record.power_constraints = message
        self.record.described = PEBC
        self._touch()
        self.hub.emit(ResourceReady(self.record.resource_id, PEBC))
        self.hub.ready(self.record)

    async def _on_storage_status(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        self.record.fill_level = float(message.present_fill_level)
        self._touch()
        self.hub.emit(StorageUpdated(self.record.resource_id, self.record.fill_level))

    async def _on_actuator_status(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        self.record.active_modes[str(message.actuator_id)] = (
            str(message.active_operation_mode_id),
            float(message.operation_mode_factor),
        )
        self._touch()

    async def _on_measurement(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        values = [v.value for v in message.values if v.commodity_quantity in ELECTRIC]
        if not values:
            return
        kw = sum(values) / 1000
        rec = self.record
        at = message.measurement_timestamp
        rec.energy.power(at, kw)
        if rec.measured_at is None or at >= rec.measured_at:
            rec.power_kw, rec.measured_at = kw, at
        self._touch()
        self.hub.emit(MeasurementReceived(rec.resource_id, at, kw))

    async def _on_status(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        instruction_id = str(message.instruction_id)
        status = _control(message.status_type)
        self.record.statuses[instruction_id] = status
        self._touch()
        self.hub.status_changed(self.record, instruction_id, status)

    async def _on_session_request(self, _: Any, message: Any, send_okay: Any) -> None:
        await send_okay()
        self._spawn(self.close())  # TERMINATE or RECONNECT: both start with closing this one

    async def _on_started(self, *_: Any) -> None:
        """Both sides open with a Handshake; the CEM's answer to the RM's follows it."""
        self._spawn(
            self.send(
                Handshake(
                    message_id=uuid.uuid4(),
                    role=EnergyManagementRole.CEM,
                    supported_protocol_versions=[S2_VERSION],
                )
            )
        )

    async def _on_stopped(self, *_: Any) -> None:
        for task in list(self._tasks):
            task.cancel()

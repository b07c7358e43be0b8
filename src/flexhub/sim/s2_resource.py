"""A simulated S2 resource manager (RM side, on s2-python's ``ResourceManagerHandler``) for a
home battery, a hot water tank or an EV, running the device physics of
:mod:`flexhub.agent.optimize.devices` (:class:`~flexhub.sim.physics.DeviceRun`).

It connects to a CEM (``Authorization: Bearer <token>``), handshakes, offers FRBC (and PEBC for
an EV) and follows what the CEM selects:

- FRBC: one actuator with operation modes (battery: charge, idle, discharge; tank: heat, off;
  EV: charge, idle); an instruction names a mode and factor from its execution time on;
- PEBC: the device does what it would on its own, within the power envelope in force;
- no selection: on its own (a battery idles, a tank keeps its band by thermostat, an EV
  charges at full power).

Every tick the device draws that power as far as its hard limits allow. It reports a
``PowerMeasurement`` whenever its power changes and every ``measure_interval_s`` (the CEM
holds each until the next, so they add up to the energy drawn), its fill level, its active
mode and each instruction's status. It reconnects after a dropped connection (a new S2
session: instructions are not carried over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from s2python.common import (
    Commodity,
    CommodityQuantity,
    Duration,
    InstructionStatus,
    InstructionStatusUpdate,
    PowerMeasurement,
    PowerValue,
    RevokeObject,
    Role,
    RoleType,
)
from s2python.connection import AssetDetails
from s2python.connection.async_ import S2AsyncConnection
from s2python.connection.async_.control_type.class_based import (
    FRBCControlType,
    PEBCControlType,
    ResourceManagerHandler,
)
from s2python.connection.async_.medium.s2_medium import (
    MediumClosedConnectionError,
    S2AsyncMediumConnection,
)
from s2python.frbc import (
    FRBCStorageStatus,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from flexhub.agent.optimize.devices import EV, HomeBattery, WaterHeater
from flexhub.sim.clock import SimClock
from flexhub.sim.physics import DeviceRun
from flexhub.sim.s2_devices import (
    Mode,
    SimDevice,
    actuator_status,
    modes_of,
    power_constraints,
    system_description,
)
from flexhub.tasks import cancel_and_wait

log = logging.getLogger(__name__)
FRBC = "FILL_RATE_BASED_CONTROL"
PEBC = "POWER_ENVELOPE_BASED_CONTROL"


class ClientMedium(S2AsyncMediumConnection):
    """The client end of a WebSocket, as s2-python's medium."""

    def __init__(self, ws: ClientConnection) -> None:
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


class _Frbc(FRBCControlType):
    def __init__(self, rm: SimResource) -> None:
        self.rm = rm

    async def activate(self, connection: S2AsyncConnection) -> None:
        await self.rm._activate(FRBC, connection)

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        self.rm._deactivate()

    async def handle_instruction(self, connection: Any, msg: Any, send_okay: Any) -> None:
        await send_okay()
        self.rm._take_frbc(msg)


class _Pebc(PEBCControlType):
    def __init__(self, rm: SimResource) -> None:
        self.rm = rm

    async def activate(self, connection: S2AsyncConnection) -> None:
        await self.rm._activate(PEBC, connection)

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        self.rm._deactivate()

    async def handle_instruction(self, connection: Any, msg: Any, send_okay: Any) -> None:
        await send_okay()
        self.rm._take_pebc(msg)


@dataclass
class _Instruction:
    id: str
    at: datetime
    mode: Mode | None = None  # FRBC
    factor: float = 0.0
    envelope: tuple[tuple[datetime, float, float], ...] = ()  # PEBC: (until, low kW, high kW)


class SimResource:
    def __init__(
        self,
        resource_id: str,
        url: str,
        token: str,
        device: SimDevice,
        *,
        clock: SimClock | None = None,
        control_types: Iterable[str] | None = None,
        tick_s: float = 10.0,
        measure_interval_s: float = 60.0,
        reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 5.0,
        refuse_modes: Iterable[str] = (),
        name: str | None = None,
        zone: str = "UTC",
    ) -> None:
        self.resource_id, self.url, self.token = resource_id, url.rstrip("/"), token
        self.device = device
        self.clock = clock or SimClock()
        if control_types is None:
            control_types = (FRBC, PEBC) if isinstance(device, EV) else (FRBC,)
        self.control_types = tuple(control_types)
        self.tick_s, self.measure_interval_s = tick_s, measure_interval_s
        self.reconnect_delay, self.max_reconnect_delay = reconnect_delay, max_reconnect_delay
        self.refuse_modes = set(refuse_modes)
        self.name = name or resource_id
        self.rm_id = uuid.uuid5(uuid.NAMESPACE_URL, f"flexhub-sim:{resource_id}")
        self.actuator_id = uuid.uuid5(self.rm_id, "actuator")
        self.modes = modes_of(device, self.rm_id)
        self.quantity = (
            CommodityQuantity.ELECTRIC_POWER_3_PHASE_SYMMETRIC
            if isinstance(device, EV)
            else CommodityQuantity.ELECTRIC_POWER_L1
        )
        start = _floor(self.clock.now(), timedelta(seconds=tick_s))
        self.run = DeviceRun(device, start, tick_s, zone=zone)
        self.control: str | None = None
        self.instructions: list[_Instruction] = []  # accepted, by execution time
        self.active: _Instruction | None = None
        self.statuses: dict[str, str] = {}
        self.constraints_id = uuid.uuid5(self.rm_id, "constraints")
        self.history: deque[tuple[datetime, float]] = deque(maxlen=100_000)
        self.measured: list[tuple[datetime, float]] = []  # power measurements sent
        self.online = asyncio.Event()
        self.connections = 0
        self.last_error: Exception | None = None
        self._conn: S2AsyncConnection | None = None
        self._ws: ClientConnection | None = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._heating = False
        self._tasks: list[asyncio.Task] = []
        self._stopping = False

    # --- control -------------------------------------------------------------------------

    async def start(self) -> SimResource:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._connector(), name=f"{self.resource_id} connection"),
            asyncio.create_task(self._physics(), name=f"{self.resource_id} physics"),
            asyncio.create_task(self._sender(), name=f"{self.resource_id} sender"),
        ]
        return self

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        await cancel_and_wait(self._tasks)

    async def __aenter__(self) -> SimResource:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_online(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.online.wait()

    def drop(self) -> None:
        """Lose the network: the connection is cut without a closing handshake."""
        if self._ws is not None:
            self._ws.transport.abort()

    def energy_kwh(self, start: datetime, end: datetime) -> float:
        ticks = list(self.history)
        return sum(
            kw * (nxt[0] - t).total_seconds() / 3600
            for (t, kw), nxt in zip(ticks, ticks[1:], strict=False)
            if start <= t < end
        )

    @property
    def fill_level(self) -> float:
        return self.run.x

    # --- the connection ------------------------------------------------------------------

    async def _connector(self) -> None:
        delay = self.reconnect_delay
        while not self._stopping:
            try:
                ws = await connect(
                    f"{self.url}/{self.resource_id}",
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=None,
                    open_timeout=10,
                )
            except (OSError, TimeoutError, InvalidHandshake, InvalidStatus) as exc:
                self.last_error = exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            delay = self.reconnect_delay
            await self._session(ws)
            if not self._stopping:
                await asyncio.sleep(delay)

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        conn = S2AsyncConnection(ClientMedium(ws))
        control = {FRBC: _Frbc(self), PEBC: _Pebc(self)}
        details = AssetDetails(
            resource_id=self.rm_id,
            provides_forecast=False,
            provides_power_measurements=[self.quantity],
            instruction_processing_delay=Duration.from_milliseconds(100),
            roles=[Role(role=self._role(), commodity=Commodity.ELECTRICITY)],
            name=self.name,
            manufacturer="flexhub",
            model=f"sim-{type(self.device).__name__.lower()}",
        )
        handler = ResourceManagerHandler([control[c] for c in self.control_types], details)
        handler.register_handlers(conn)
        conn.register_handler(RevokeObject, self._on_revoke)
        self._conn = conn
        self.connections += 1
        self.online.set()
        try:
            await conn.run()
        finally:
            self.online.clear()
            self._conn = None
            self._ws = None
            self._deactivate()
            with contextlib.suppress(Exception):
                await ws.close()

    def _role(self) -> RoleType:
        if isinstance(self.device, HomeBattery):
            return RoleType.ENERGY_STORAGE
        return RoleType.ENERGY_CONSUMER

    async def _sender(self) -> None:
        while True:
            message = await self._queue.get()
            conn = self._conn
            if conn is None:
                continue  # nobody to tell
            try:
                await conn.send_msg_and_await_reception_status(message, raise_on_error=False)
            except Exception as exc:  # the connection went: what it would have said is lost
                log.debug("%s: %s not sent: %s", self.resource_id, message.message_type, exc)

    def _send(self, message: Any) -> None:
        if self._conn is not None:
            self._queue.put_nowait(message)

    def _status(self, instruction_id: str, status: InstructionStatus) -> None:
        self.statuses[instruction_id] = status.value
        self._send(
            InstructionStatusUpdate(
                message_id=uuid.uuid4(),
                instruction_id=uuid.UUID(instruction_id),
                status_type=status,
                timestamp=self.clock.now(),
            )
        )

    # --- what the CEM selects and asks ---------------------------------------------------

    async def _activate(self, control_type: str, conn: S2AsyncConnection) -> None:
        self.control = control_type
        self.instructions, self.active = [], None
        now = self.clock.now()
        if control_type == FRBC:
            await conn.send_msg_and_await_reception_status(system_description(self, now))
            await conn.send_msg_and_await_reception_status(
                FRBCStorageStatus(message_id=uuid.uuid4(), present_fill_level=self.run.x)
            )
            idle = next(m for m in self.modes if m.w0 == m.w1 == 0)
            await conn.send_msg_and_await_reception_status(actuator_status(self, idle, 0.0))
        else:
            await conn.send_msg_and_await_reception_status(power_constraints(self, now))

    def _deactivate(self) -> None:
        self.control = None
        self.instructions, self.active = [], None

    def _take_frbc(self, msg: Any) -> None:
        instruction_id = str(msg.id)
        mode = next((m for m in self.modes if m.id == msg.operation_mode), None)
        factor = float(msg.operation_mode_factor)
        if (
            msg.actuator_id != self.actuator_id
            or mode is None
            or mode.label in self.refuse_modes
            or not 0 <= factor <= 1
        ):
            self._status(instruction_id, InstructionStatus.REJECTED)
            return
        self._accept(_Instruction(instruction_id, msg.execution_time, mode, factor))

    def _take_pebc(self, msg: Any) -> None:
        instruction_id = str(msg.id)
        if msg.power_constraints_id != self.constraints_id or not msg.power_envelopes:
            self._status(instruction_id, InstructionStatus.REJECTED)
            return
        t, elements = msg.execution_time, []
        for e in msg.power_envelopes[0].power_envelope_elements:
            t = t + timedelta(milliseconds=e.duration.root)
            elements.append((t, e.lower_limit / 1000, e.upper_limit / 1000))
        self._accept(_Instruction(instruction_id, msg.execution_time, envelope=tuple(elements)))

    def _accept(self, instruction: _Instruction) -> None:
        self.instructions.append(instruction)
        self.instructions.sort(key=lambda i: i.at)
        self._status(instruction.id, InstructionStatus.ACCEPTED)

    async def _on_revoke(self, _: Any, msg: Any, send_okay: Any) -> None:
        await send_okay()
        object_id = str(msg.object_id)
        before = len(self.instructions)
        self.instructions = [i for i in self.instructions if i.id != object_id]
        if self.active is not None and self.active.id == object_id:
            self.active = None
        if len(self.instructions) != before or self.statuses.get(object_id) == "STARTED":
            self._status(object_id, InstructionStatus.REVOKED)

    # --- the device ----------------------------------------------------------------------

    def _own_kw(self) -> float:
        """What the device does on its own."""
        device = self.device
        if isinstance(device, WaterHeater):
            if self.run.x <= device.t_min + 1:
                self._heating = True
            elif self.run.x >= device.t_max - 1:
                self._heating = False
            return device.heater_kw if self._heating else 0.0
        if isinstance(device, EV):
            return math.inf
        return 0.0

    def _target_kw(self, t: datetime) -> float:
        current = None
        for instruction in self.instructions:
            if instruction.at <= t:
                current = instruction
        if current is not self.active:
            if self.active is not None and self.statuses.get(self.active.id) == "STARTED":
                self._status(self.active.id, InstructionStatus.SUCCEEDED)
            self.active = current
            if current is not None:
                # those before it are over
                self.instructions = [i for i in self.instructions if i.at >= current.at]
                self._status(current.id, InstructionStatus.STARTED)
                if current.mode is not None:
                    self._send(actuator_status(self, current.mode, current.factor))
        if current is None:
            return self._own_kw()
        if current.mode is not None:
            return current.mode.kw(current.factor)
        for until, low, high in current.envelope:
            if t < until:
                return min(max(self._own_kw(), low), high)
        self._status(current.id, InstructionStatus.SUCCEEDED)
        self.instructions.remove(current)
        self.active = None
        return self._own_kw()

    async def _physics(self) -> None:
        tick = timedelta(seconds=self.tick_s)
        measure = timedelta(seconds=self.measure_interval_s)
        t = self.run.t
        next_measure = _floor(t, measure)
        last_sent: float | None = None
        while True:
            await self.clock.sleep_until(t)
            level = self.run.x
            p = self.run.step(self._target_kw(t))
            self.history.append((t, p))
            periodic = t >= next_measure
            if periodic:
                next_measure += measure
                if self.control == FRBC:
                    self._send(FRBCStorageStatus(message_id=uuid.uuid4(), present_fill_level=level))
            if (periodic or last_sent is None or abs(p - last_sent) > 1e-6) and self._conn:
                self._send(
                    PowerMeasurement(
                        message_id=uuid.uuid4(),
                        measurement_timestamp=t,
                        values=[PowerValue(commodity_quantity=self.quantity, value=p * 1000)],
                    )
                )
                self.measured.append((t, p))
                last_sent = p
            elif self._conn is None:
                last_sent = None  # the first measurement after a reconnect starts afresh
            t += tick

    # --- descriptions --------------------------------------------------------------------


def _floor(when: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + ((when - epoch) // step) * step

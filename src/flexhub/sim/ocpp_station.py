"""A simulated EV charging station, OCPP 2.0.1 or 1.6-J client side, on the ``ocpp`` library.

It connects to a CSMS (HTTP Basic: its id and password), boots, reports each EVSE's status and,
when a vehicle plugs in, authorizes and starts a transaction. Every tick the vehicle draws
what the limit in force allows (:mod:`flexhub.sim.ocpp_profiles`), by the EV device physics
of :mod:`flexhub.agent.optimize.devices` (:class:`~flexhub.sim.physics.DeviceRun`); meter
values go out every ``meter_interval_s`` (in transaction messages while one runs). When the
connection drops it keeps charging by the profiles it has, queues its transaction messages
(sent with ``offline`` set) and reconnects; :meth:`SimStation.reboot` also forgets its
profiles and transactions, as a power cut does.

Device time follows a :class:`~flexhub.sim.clock.SimClock`, which may run fast; network
delays stay on the wall clock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import ssl as ssl_module
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from flexhub.agent.optimize.devices import EV
from flexhub.sim.clock import SimClock
from flexhub.sim.ocpp_links import LINKS, OCPP201
from flexhub.sim.ocpp_profiles import Profile, ProfileBook, share
from flexhub.sim.physics import DeviceRun
from flexhub.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass
class SimEvse:
    """One EVSE (with one connector) and the vehicles that will visit it, by plug-in time."""

    evse_id: int
    max_kw: float = 11.0
    visits: list[EV] = field(default_factory=list)
    vehicle: DeviceRun | None = None
    status: str = "Available"
    transaction_id: str | None = None
    tx_started: datetime | None = None
    tx_seq: int = 0
    authorized: bool = False
    charging_state: str = "Idle"
    register_wh: float = 0.0
    power_kw: float = 0.0
    limit_kw: float | None = None  # the limit of the last tick (None: none)
    history: deque[tuple[datetime, float]] = field(default_factory=lambda: deque(maxlen=100_000))

    def energy_kwh(self, start: datetime, end: datetime) -> float:
        """kWh drawn in the ticks that started in ``[start, end)`` (from ``history``)."""
        ticks = list(self.history)
        total = 0.0
        for (t, kw), nxt in zip(ticks, ticks[1:] + [None], strict=False):
            if start <= t < end and nxt is not None:
                total += kw * (nxt[0] - t).total_seconds() / 3600
        return total

    @property
    def soc_percent(self) -> float | None:
        if self.vehicle is None or not isinstance(self.vehicle.device, EV):
            return None
        return 100 * self.vehicle.x / self.vehicle.device.capacity_kwh


@dataclass
class _Outgoing:
    build: Callable[[], Any]  # the request, built when it is sent (ids known by then)
    keep: bool  # kept while offline (transaction messages), else dropped
    done: Callable[[Any], None] | None = None


class SimStation:
    def __init__(
        self,
        station_id: str,
        url: str,
        password: str,
        evses: int | Sequence[SimEvse] = 1,
        *,
        clock: SimClock | None = None,
        protocol: str = OCPP201,
        tick_s: float = 10.0,
        meter_interval_s: float = 60.0,
        rate_units: tuple[str, ...] = ("W", "A"),
        max_periods: int = 1024,
        voltage: float = 230.0,
        phases: int = 3,
        reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 5.0,
        vendor: str = "flexhub",
        model: str = "sim-ac",
        id_token: str = "SIM-0001",
        ssl: ssl_module.SSLContext | None = None,
        phase_s: float = 0.0,
        validate: bool = True,
    ) -> None:
        if protocol not in LINKS:
            raise ValueError(f"protocol is one of {', '.join(LINKS)}")
        self.station_id, self.url, self.password = station_id, url.rstrip("/"), password
        if isinstance(evses, int):
            evses = [SimEvse(i + 1) for i in range(evses)]
        self.evses = {e.evse_id: e for e in evses}
        self.clock = clock or SimClock()
        self.protocol = protocol
        self.tick_s, self.meter_interval_s = tick_s, meter_interval_s
        self.reconnect_delay, self.max_reconnect_delay = reconnect_delay, max_reconnect_delay
        self.vendor, self.model, self.id_token = vendor, model, id_token
        self.ssl = ssl
        self.phase_s = phase_s  # ticks and meter values at this offset from whole intervals
        self.validate = validate  # check messages against the OCPP schemas (both ways)
        self.book = ProfileBook(
            set(self.evses), rate_units, voltage, phases, max_periods=max_periods
        )
        self.rejected: list[tuple[Profile, str]] = []
        self.online = asyncio.Event()
        self.connections = 0  # successful connections so far
        self.boots = 0
        self.last_error: Exception | None = None
        self._link: Any = None
        self._ws: ClientConnection | None = None
        self._outbox: deque[_Outgoing] = deque()
        self._work = asyncio.Event()
        self._needs_boot = True
        self._heartbeat_s = 300.0
        self._tasks: list[asyncio.Task] = []
        self._stopping = False

    # --- control -------------------------------------------------------------------------

    async def start(self) -> SimStation:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._connector(), name=f"{self.station_id} connection"),
            asyncio.create_task(self._physics(), name=f"{self.station_id} physics"),
            asyncio.create_task(self._sender(), name=f"{self.station_id} sender"),
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
        self._tasks = []

    async def __aenter__(self) -> SimStation:
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

    def reboot(self) -> None:
        """A power cut: the connection drops, profiles and transactions are forgotten; the
        station boots again (vehicles stay plugged and start new transactions)."""
        self.book.profiles.clear()
        for evse in self.evses.values():
            if evse.transaction_id is not None:
                self._end_transaction(evse, self.clock.now(), "PowerLoss")
        self._needs_boot = True
        self.drop()

    def plug(self, evse_id: int, ev: EV) -> None:
        """A vehicle will come to this EVSE at ``ev.plug_in`` and leave at ``ev.departure``."""
        evse = self.evses[evse_id]
        evse.visits.append(ev)
        evse.visits.sort(key=lambda v: v.plug_in)

    # --- what the CSMS asks (called by the links) ----------------------------------------

    def take_profile(self, profile: Profile) -> tuple[bool, str]:
        running = {k: e.transaction_id for k, e in self.evses.items()}
        ok, reason = self.book.install(profile, running)
        if not ok:
            self.rejected.append((profile, reason))
        return ok, reason

    # --- the connection ------------------------------------------------------------------

    def _auth(self) -> str:
        raw = f"{self.station_id}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def _connector(self) -> None:
        delay = self.reconnect_delay
        while not self._stopping:
            try:
                ws = await connect(
                    f"{self.url}/{self.station_id}",
                    subprotocols=[self.protocol],
                    additional_headers={"Authorization": self._auth()},
                    compression=None,
                    ssl=self.ssl,
                    open_timeout=10,
                    ping_interval=None,
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
        link = LINKS[self.protocol](self, ws)
        if not self.validate:
            for route in link.route_map.values():
                route["_skip_schema_validation"] = True
        reader = asyncio.create_task(link.start())
        beats: asyncio.Task | None = None
        try:
            if self._needs_boot:
                self._heartbeat_s = await link.boot()
                self.boots += 1
                self._needs_boot = False
                now = self.clock.now()
                for evse in self.evses.values():
                    self._enqueue(link.status(evse, now), keep=True)
                    if evse.vehicle is not None and evse.transaction_id is None:
                        self._begin_transaction(evse, now)
            self._link = link
            self.connections += 1
            self.online.set()
            self._work.set()
            beats = asyncio.create_task(self._heartbeats(link))
            await reader
        except (ConnectionClosed, TimeoutError) as exc:
            self.last_error = exc
        finally:
            self.online.clear()
            self._link = None
            self._ws = None
            for task in (reader, beats):
                if task is not None:
                    task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()

    async def _heartbeats(self, link: Any) -> None:
        while True:
            await asyncio.sleep(max(1.0, self._heartbeat_s))
            self._enqueue(link.heartbeat, keep=False)

    def _enqueue(
        self, build: Callable[[], Any], keep: bool, done: Callable[[Any], None] | None = None
    ) -> None:
        if not keep and not self.online.is_set():
            return  # a meter value or heartbeat nobody hears
        self._outbox.append(_Outgoing(build, keep, done))
        self._work.set()

    async def _sender(self) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            while self._outbox and self._link is not None:
                item, link = self._outbox[0], self._link
                request = item.build()
                try:
                    answer = await link.call(
                        request, suppress=False, skip_schema_validation=not self.validate
                    )
                except (ConnectionClosed, TimeoutError):
                    break  # kept for the next connection
                except Exception as exc:  # a CallError: the CSMS refused; nothing to retry
                    log.warning("%s: %s refused: %s", self.station_id, type(request).__name__, exc)
                    answer = None
                if self._outbox and self._outbox[0] is item:
                    self._outbox.popleft()
                if item.done is not None and answer is not None:
                    item.done(answer)

    # --- the devices ---------------------------------------------------------------------

    async def _physics(self) -> None:
        tick = timedelta(seconds=self.tick_s)
        meter = timedelta(seconds=self.meter_interval_s)
        phase = timedelta(seconds=self.phase_s)
        t = _floor(self.clock.now() - phase, tick) + phase
        next_meter = _floor(t - phase, meter) + meter + phase
        while True:
            await self.clock.sleep_until(t)
            if t >= next_meter:
                for evse in self.evses.values():
                    self._meter(evse, t)
                next_meter += meter
            for evse in self.evses.values():
                self._visits(evse, t)
            self._tick(t)
            t += tick

    def _visits(self, evse: SimEvse, t: datetime) -> None:
        run = evse.vehicle
        if run is not None and t >= run.device.departure:
            if evse.transaction_id is not None:
                self._end_transaction(evse, t, "EVDisconnected")
            evse.vehicle = None
            evse.authorized = False
            self._set_status(evse, "Available", t)
        if evse.vehicle is None and evse.visits and evse.visits[0].plug_in <= t:
            ev = evse.visits.pop(0)
            if t < ev.departure:
                evse.vehicle = DeviceRun(ev, t, self.tick_s)
                self._set_status(evse, "Occupied", t)
                self._begin_transaction(evse, t)

    def _tick(self, t: datetime) -> None:
        """One tick from ``t``: what each vehicle may draw (its EVSE's limit, the station's
        maximum shared out), then the physics."""
        wants: dict[int, float] = {}
        for k, evse in self.evses.items():
            limit = self.book.evse_limit_kw(k, t, evse.transaction_id, evse.tx_started)
            evse.limit_kw = limit
            run = evse.vehicle
            if run is None or not evse.authorized or evse.transaction_id is None:
                wants[k] = 0.0
                continue
            room = evse.max_kw if limit is None else min(evse.max_kw, limit)
            wants[k] = max(0.0, run.feasible(room))
        shares = share(wants, self.book.station_limit_kw(t))
        for k, evse in self.evses.items():
            run = evse.vehicle
            p = run.step(shares[k]) if run is not None else 0.0
            evse.power_kw = p
            evse.register_wh += p * self.tick_s / 3.6
            evse.history.append((t, p))
            if evse.transaction_id is None or not evse.authorized:
                continue
            if p > 0:
                state = "Charging"
            elif wants[k] > 0 or (evse.limit_kw is not None and evse.limit_kw <= 0):
                state = "SuspendedEVSE"  # the station holds it back
            else:
                state = "SuspendedEV"  # the vehicle takes nothing (full)
            if state != evse.charging_state:
                evse.charging_state = state
                self._charging_state(evse, t)

    # --- messages ------------------------------------------------------------------------

    def _set_status(self, evse: SimEvse, status: str, t: datetime) -> None:
        evse.status = status
        self._enqueue(LINKS[self.protocol].status(evse, t), keep=True)

    def _begin_transaction(self, evse: SimEvse, t: datetime) -> None:
        link = LINKS[self.protocol]
        evse.tx_started = t
        evse.tx_seq = 0
        evse.charging_state = "EVConnected"
        offline = not self.online.is_set()
        if offline:
            evse.authorized = True  # local authorization while offline
        for build, done in link.begin_transaction(self, evse, t, offline):
            self._enqueue(build, keep=True, done=done)

    def _end_transaction(self, evse: SimEvse, t: datetime, reason: str) -> None:
        link = LINKS[self.protocol]
        offline = not self.online.is_set()
        for build in link.end_transaction(self, evse, t, reason, offline):
            self._enqueue(build, keep=True)
        if evse.transaction_id is not None:
            self.book.transaction_ended(evse.transaction_id)
        evse.transaction_id = None
        evse.tx_started = None
        evse.charging_state = "Idle"

    def _charging_state(self, evse: SimEvse, t: datetime) -> None:
        link = LINKS[self.protocol]
        offline = not self.online.is_set()
        self._enqueue(link.charging_state(self, evse, t, offline), keep=True)

    def _meter(self, evse: SimEvse, t: datetime) -> None:
        link = LINKS[self.protocol]
        offline = not self.online.is_set()
        in_tx = evse.transaction_id is not None
        self._enqueue(link.meter(self, evse, t, offline), keep=in_tx)

    def new_transaction_id(self) -> str:
        return uuid.uuid4().hex


def random_visits(
    rng: random.Random, start: datetime, days: int = 7, max_kw: float = 11.0
) -> list[EV]:
    """A vehicle a day: arriving in the evening (or within the first hours for day 0), staying
    the night, needing a part of its battery back."""
    visits = []
    for day in range(days):
        if day == 0:
            plug_in = start + timedelta(minutes=rng.uniform(0, 240))
        else:
            evening = (start + timedelta(days=day)).replace(hour=16, minute=0, second=0)
            plug_in = evening + timedelta(minutes=rng.uniform(0, 300))
        capacity = rng.choice([40.0, 60.0, 77.0, 82.0])
        soc = capacity * rng.uniform(0.1, 0.5)
        visits.append(
            EV(
                capacity_kwh=capacity,
                max_charge_kw=min(max_kw, rng.choice([7.4, 11.0])),
                plug_in=plug_in,
                departure=plug_in + timedelta(hours=rng.uniform(3, 12)),
                energy_needed_kwh=min(capacity - soc, rng.uniform(10, 40)),
                soc_kwh=soc,
            )
        )
    return visits


def _floor(when: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    n = (when - epoch) // step
    return epoch + n * step

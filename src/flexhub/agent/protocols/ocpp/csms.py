"""The CSMS: a WebSocket endpoint (``ws[s]://HOST:PORT/ocpp/<station id>``) EV charging stations
connect to, speaking OCPP 2.0.1 (subprotocol ``ocpp2.0.1``) or 1.6-J (``ocpp1.6``), and the
API the agent drives them through.

Stations are known in advance: each has a password, checked at the WebSocket handshake (HTTP
Basic, username = station id: OCPP security profile 1 over ``ws://``, 2 over ``wss://`` with
the ``ssl`` context given). An unknown station or a wrong password is answered 401 and never
reaches OCPP.

What flexhub wants in force is kept per EVSE (a schedule) and per station (a cap), and sent
whenever it can take effect: at once, again on every reconnect or boot, as a TxProfile when a
transaction starts, and window after window for stations that take few periods per schedule.
Every answer is kept (``EvseState.last_result``, ``StationInfo.cap_result``) and emitted
(:class:`ProfileAnswered`; refusals and unanswered sends also as :class:`ProfileRejected`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import ssl as ssl_module
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHeader
from websockets.headers import parse_authorization_basic
from websockets.http11 import Request, Response

from flexhub.agent.optimize.devices import Horizon
from flexhub.agent.protocols.clocks import Now, WallClock
from flexhub.agent.protocols.listeners import Listeners
from flexhub.agent.protocols.ocpp.profiles import build
from flexhub.agent.protocols.ocpp.session import ConnectionLost
from flexhub.agent.protocols.ocpp.state import (
    OCPP16,
    OCPP201,
    EvseState,
    Outcome,
    ProfileAnswered,
    ProfileRejected,
    ProfileResult,
    Purpose,
    StationConfig,
    StationConnected,
    StationDisconnected,
    StationInfo,
    StationRecord,
)
from flexhub.agent.protocols.ocpp.v16 import Session16
from flexhub.agent.protocols.ocpp.v201 import Session201
from flexhub.agent.protocols.periods import OPEN_END, periods_of, single
from flexhub.agent.protocols.servers import close_server

log = logging.getLogger(__name__)


class _WireLog(logging.LoggerAdapter):
    """The ``ocpp`` library logs every message at INFO; flexhub logs them at DEBUG."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


WIRE_LOG = _WireLog(logging.getLogger("flexhub.ocpp.wire"), {})
_SESSIONS = {OCPP201: Session201, OCPP16: Session16}


class UnknownStation(KeyError):
    """No station with this id is configured."""


class Csms:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str | StationConfig] | None = None,
        *,
        path: str = "/ocpp",
        ssl: ssl_module.SSLContext | None = None,
        clock: Now | None = None,
        protocols: Sequence[str] = (OCPP201, OCPP16),
        heartbeat_interval: int = 300,
        response_timeout: float = 30.0,
        ping_interval: float | None = 60.0,
        refresh_interval: float = 30.0,
        reconnect_grace: float = 2.0,
        on_event: Callable[[object], Any] | None = None,
    ) -> None:
        unknown = set(protocols) - set(_SESSIONS)
        if unknown or not protocols:
            raise ValueError(f"protocols are among {', '.join(_SESSIONS)}")
        self.host, self._port, self.path = host, port, "/" + path.strip("/")
        self.ssl = ssl
        self.clock = clock or WallClock()
        self.protocols = tuple(protocols)
        self.heartbeat_interval = heartbeat_interval
        self.response_timeout = response_timeout
        self.ping_interval = ping_interval
        self.refresh_interval = refresh_interval
        self.reconnect_grace = reconnect_grace
        self.listeners = Listeners()
        if on_event is not None:
            self.listeners.add(on_event)
        self._records: dict[str, StationRecord] = {}
        for station_id, config in (credentials or {}).items():
            self.add_station(station_id, config)
        self._server: Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._resyncing: dict[str, bool] = {}  # station -> another pass is wanted
        self._next_tx = random.randrange(1, 2**30)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Csms:
        self._server = await serve(
            self._connection,
            self.host,
            self._port,
            ssl=self.ssl,
            subprotocols=list(self.protocols),
            process_request=self._check_handshake,
            compression=None,  # OCPP messages are small; deflate costs ~100 kB per connection
            ping_interval=self.ping_interval,
            logger=log,
        )
        self._spawn(self._refresh_loop())
        return self

    async def stop(self) -> None:
        server, self._server = self._server, None
        await close_server(server, lambda: list(self._tasks))
        await self.listeners.aclose()

    async def __aenter__(self) -> Csms:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """The URL stations are given, without their id: ``<url>/<station id>``."""
        return f"{'wss' if self.ssl else 'ws'}://{self.host}:{self.port}{self.path}"

    # --- configuration -------------------------------------------------------------------

    def add_station(self, station_id: str, config: str | StationConfig) -> None:
        if isinstance(config, str):
            config = StationConfig(password=config)
        rec = self._records.get(station_id)
        if rec is None:
            self._records[station_id] = StationRecord(station_id, config)
        else:
            rec.config = config

    async def remove_station(self, station_id: str) -> None:
        rec = self._records.pop(station_id, None)
        if rec is not None and rec.link is not None:
            await rec.link.close()

    # --- reading -------------------------------------------------------------------------

    def stations(self) -> list[StationInfo]:
        return [rec.info() for rec in self._records.values()]

    def station(self, station_id: str) -> StationInfo:
        return self._record(station_id).info()

    def evse_state(self, station_id: str, evse_id: int) -> EvseState:
        return self._record(station_id).evse_state(evse_id)

    def energy_by_hour(
        self,
        station_id: str,
        evse_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[datetime, float]:
        """Net kWh per UTC hour metered on one EVSE, or on all of the station's EVSEs."""
        rec = self._record(station_id)
        ids = [evse_id] if evse_id is not None else [k for k in rec.evses if k > 0]
        total: dict[datetime, float] = {}
        for k in ids:
            evse = rec.evses.get(k)
            if evse is None:
                continue
            for hour, kwh in evse.energy.by_hour(start, end).items():
                total[hour] = total.get(hour, 0.0) + kwh
        return dict(sorted(total.items()))

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """The first true value of ``condition()``, checked after every event."""
        return await self.listeners.wait_for(condition, timeout)

    # --- driving -------------------------------------------------------------------------

    async def apply_schedule(
        self, station_id: str, evse_id: int, horizon: Horizon, power_kw: Sequence[float]
    ) -> ProfileResult:
        """Limit an EVSE to ``power_kw[k]`` during step ``k`` of ``horizon``: a TxProfile for
        the running transaction, else a TxDefaultProfile for the next one (and a TxProfile
        as soon as it starts). After the horizon the EVSE is not limited by flexhub."""
        rec = self._record(station_id)
        if evse_id < 1:
            raise ValueError("EVSEs are numbered from 1")
        periods = periods_of(horizon, power_kw)
        if horizon.end <= self.clock.now():
            raise ValueError("the horizon is over")
        rec.evse(evse_id).schedule = periods
        return await self._push_schedule(rec, evse_id)

    async def set_power(self, station_id: str, evse_id: int, kw: float | None) -> ProfileResult:
        """Limit an EVSE to ``kw`` from now until told otherwise; None releases it."""
        if kw is None:
            return await self.release(station_id, evse_id)
        rec = self._record(station_id)
        if evse_id < 1:
            raise ValueError("EVSEs are numbered from 1")
        rec.evse(evse_id).schedule = single(self.clock.now(), OPEN_END, kw)
        return await self._push_schedule(rec, evse_id)

    async def cap(
        self, station_id: str, limit_kw: float, start: datetime, end: datetime
    ) -> ProfileResult:
        """Cap the whole station at ``limit_kw`` from ``start`` to ``end`` (a
        ChargingStationMaxProfile): every EVSE's draw together stays under it."""
        rec = self._record(station_id)
        rec.cap = single(start, end, limit_kw)
        return await self._push_cap(rec)

    async def cap_schedule(
        self, station_id: str, horizon: Horizon, limits_kw: Sequence[float]
    ) -> ProfileResult:
        """A station-wide cap per step of ``horizon`` (an LPC curve)."""
        rec = self._record(station_id)
        rec.cap = periods_of(horizon, limits_kw)
        return await self._push_cap(rec)

    async def release(self, station_id: str, evse_id: int) -> ProfileResult:
        """Take flexhub's limits off an EVSE (ClearChargingProfile)."""
        rec = self._record(station_id)
        evse = rec.evse(evse_id)
        evse.schedule = ()
        evse.window = None
        result = await self._clear(rec, evse_id, evse.installed)
        evse.last_result = result
        return result

    async def release_cap(self, station_id: str) -> ProfileResult:
        rec = self._record(station_id)
        rec.cap = ()
        rec.cap_window = None
        result = await self._clear(rec, 0, rec.cap_installed)
        rec.cap_result = result
        return result

    # --- the handshake and connections ---------------------------------------------------

    def _station_of(self, path: str) -> str | None:
        path = path.split("?", 1)[0].rstrip("/")
        prefix, _, station_id = path.rpartition("/")
        if prefix != self.path.rstrip("/") or not station_id:
            return None
        return unquote(station_id)

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = self._station_of(request.path)
        rec = self._records.get(station_id) if station_id else None
        header = request.headers.get("Authorization")
        ok = False
        if rec is not None and header:
            try:
                username, password = parse_authorization_basic(header)
            except InvalidHeader:
                pass
            else:
                ok = username == station_id and hmac.compare_digest(
                    password.encode(), rec.config.password.encode()
                )
        if not ok:
            log.warning("refused a connection to %s", request.path)
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="flexhub", charset="UTF-8"'
            return response
        connection.username = station_id
        return None

    async def _connection(self, ws: ServerConnection) -> None:
        rec = self._records.get(ws.username)
        if rec is None or ws.subprotocol not in _SESSIONS:
            await ws.close(1002, "unknown station or subprotocol")
            return
        session = _SESSIONS[ws.subprotocol](rec, ws, self, self.response_timeout)
        session.logger = WIRE_LOG
        old, rec.link = rec.link, session
        if old is not None:  # the station came back before its old connection was noticed gone
            self._spawn(old.close())
        rec.protocol = ws.subprotocol
        rec.connected_since = rec.last_seen = self.clock.now()
        self.emit(StationConnected(rec.station_id, ws.subprotocol))
        if rec.booted_at is not None:
            self._spawn(self._resync_unless_booting(rec, session))
        try:
            await session.start()
        except ConnectionClosed:
            pass
        finally:
            if rec.link is session:
                rec.link = None
                self.emit(StationDisconnected(rec.station_id))

    async def _resync_unless_booting(self, rec: StationRecord, session: Any) -> None:
        """A station that reconnects may have rebooted: it then sends a BootNotification
        first, and nothing may be asked of it before that is accepted (the boot resyncs).
        Otherwise, after a short grace, what was in force may have changed: resync."""
        booted = rec.booted_at
        await asyncio.sleep(self.reconnect_grace)
        if rec.link is session and rec.booted_at == booted:
            self.resync(rec)

    # --- the Hub of the sessions ---------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, event: object) -> None:
        self.listeners.emit(event)

    def new_transaction_id(self) -> int:
        self._next_tx = self._next_tx % (2**31 - 1) + 1
        return self._next_tx

    def resync(self, record: StationRecord) -> None:
        station_id = record.station_id
        if station_id in self._resyncing:
            self._resyncing[station_id] = True
            return
        self._resyncing[station_id] = False
        self._spawn(self._resync(record))

    def transaction_changed(self, record: StationRecord, evse_id: int) -> None:
        if record.evse(evse_id).schedule:
            self._spawn(self._push_schedule(record, evse_id))

    # --- sending -------------------------------------------------------------------------

    async def _resync(self, rec: StationRecord) -> None:
        try:
            while True:
                for evse_id, evse in list(rec.evses.items()):
                    if evse.schedule:
                        await self._push_schedule(rec, evse_id)
                    elif evse.installed:
                        evse.last_result = await self._clear(rec, evse_id, evse.installed)
                if rec.cap:
                    await self._push_cap(rec)
                elif rec.cap_installed:
                    rec.cap_result = await self._clear(rec, 0, rec.cap_installed)
                if not self._resyncing.get(rec.station_id):
                    return
                self._resyncing[rec.station_id] = False
        finally:
            self._resyncing.pop(rec.station_id, None)

    async def _push_schedule(self, rec: StationRecord, evse_id: int) -> ProfileResult:
        evse = rec.evse(evse_id)
        tx = evse.transaction_id
        purpose = Purpose.TX if tx else Purpose.TX_DEFAULT
        spec = build(purpose, evse_id, evse.schedule, self.clock.now(), rec.config, tx)
        if spec is None:
            evse.schedule, evse.window = (), None
            result = ProfileResult(
                rec.station_id, evse_id, purpose, None, Outcome.ACCEPTED, "the schedule is over"
            )
        else:
            result = await self._send(rec, spec)
            if result.ok:
                evse.installed.add(spec.profile_id)
            evse.window = (spec.start, spec.end) if spec.end < evse.schedule[-1].end else None
        evse.last_result = result
        return result

    async def _push_cap(self, rec: StationRecord) -> ProfileResult:
        spec = build(Purpose.STATION_MAX, 0, rec.cap, self.clock.now(), rec.config)
        if spec is None:
            rec.cap, rec.cap_window = (), None
            result = ProfileResult(
                rec.station_id, 0, Purpose.STATION_MAX, None, Outcome.ACCEPTED, "the cap is over"
            )
        else:
            result = await self._send(rec, spec)
            if result.ok:
                rec.cap_installed.add(spec.profile_id)
            rec.cap_window = (spec.start, spec.end) if spec.end < rec.cap[-1].end else None
        rec.cap_result = result
        return result

    async def _send(self, rec: StationRecord, spec: Any) -> ProfileResult:
        def result(outcome: Outcome, reason: str) -> ProfileResult:
            return ProfileResult(
                rec.station_id, spec.evse_id, spec.purpose, spec.profile_id, outcome, reason
            )

        link = rec.link
        if link is None:
            return result(Outcome.QUEUED, "station offline: sent when it reconnects")
        try:
            ok, reason = await link.set_profile(spec, rec.config)
        except (ConnectionLost, ConnectionClosed):
            answer = result(Outcome.FAILED, "connection lost: sent again when it reconnects")
        except TimeoutError:
            answer = result(Outcome.FAILED, "no answer: sent again when it reconnects")
        else:
            answer = result(Outcome.ACCEPTED if ok else Outcome.REJECTED, reason)
        self.emit(ProfileAnswered(answer))
        if not answer.ok:
            log.warning(
                "%s evse %s: %s %s (%s)",
                rec.station_id,
                spec.evse_id,
                spec.purpose.value,
                answer.outcome.value,
                answer.reason,
            )
            self.emit(ProfileRejected(answer))
        return answer

    async def _clear(self, rec: StationRecord, evse_id: int, installed: set[int]) -> ProfileResult:
        def result(outcome: Outcome, reason: str) -> ProfileResult:
            return ProfileResult(rec.station_id, evse_id, None, None, outcome, reason, cleared=True)

        if not installed:
            return result(Outcome.ACCEPTED, "nothing to clear")
        link = rec.link
        if link is None:
            return result(Outcome.QUEUED, "station offline: cleared when it reconnects")
        reasons = []
        for profile_id in sorted(installed):
            try:
                ok, reason = await link.clear_profile(profile_id)
            except (ConnectionLost, ConnectionClosed, TimeoutError):
                answer = result(Outcome.FAILED, "no answer: cleared when it reconnects")
                self.emit(ProfileAnswered(answer))
                return answer
            if ok:
                installed.discard(profile_id)
            else:
                reasons.append(f"{profile_id}: {reason}")
        answer = result(Outcome.REJECTED if reasons else Outcome.ACCEPTED, "; ".join(reasons))
        self.emit(ProfileAnswered(answer))
        return answer

    async def _refresh_loop(self) -> None:
        """Stations that take fewer periods than a schedule has get it window by window: the
        next window is sent once the current one is half over."""
        while True:
            await asyncio.sleep(self.refresh_interval)
            now = self.clock.now()
            for rec in self._records.values():
                if rec.link is None:
                    continue
                for evse_id, evse in list(rec.evses.items()):
                    if _due(evse.window, now):
                        self._spawn(self._push_schedule(rec, evse_id))
                if _due(rec.cap_window, now):
                    self._spawn(self._push_cap(rec))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("CSMS task failed", exc_info=task.exception())

    def _record(self, station_id: str) -> StationRecord:
        rec = self._records.get(station_id)
        if rec is None:
            raise UnknownStation(station_id)
        return rec


def _due(window: tuple[datetime, datetime] | None, now: datetime) -> bool:
    """A window of a longer schedule is half over: time to send the next one."""
    if window is None:
        return False
    start, end = window
    return now >= start + (end - start) / 2

"""The CEM: a WebSocket endpoint (``ws[s]://HOST:PORT/s2/<resource id>``) S2 resource managers
connect to, and the API the agent drives them through.

Resources are known in advance: each has a bearer token (``Authorization: Bearer <token>``),
checked at the handshake; an unknown resource or a wrong token is answered 401.

While flexhub has nothing for a resource it is left to its own control (``NO_SELECTION``).
A schedule or cap selects the resource's control type (FRBC before PEBC unless configured
otherwise), waits for its description and sends instructions: FRBC instructions per period
(:mod:`.frbc`), or a PEBC power envelope (:mod:`.pebc`). Instructions replaced by newer ones
are revoked. When what flexhub asked is over, or on :meth:`Cem.release`, the resource is handed
back (``NO_SELECTION``). After a reconnect (a new S2 session) what is still due is sent again.
Power measurements are kept as energy per hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import ssl as ssl_module
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from s2python.common import ReceptionStatusValues, RevokableObjects, RevokeObject
from s2python.connection.async_ import CouldNotReceiveStatusReceptionError
from s2python.connection.async_.medium.s2_medium import S2MediumException
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from flexhub.agent.optimize.devices import Horizon
from flexhub.agent.protocols.clocks import Now, WallClock, sleep_until
from flexhub.agent.protocols.listeners import Listeners
from flexhub.agent.protocols.periods import OPEN_END, capped, periods_of, remaining, single
from flexhub.agent.protocols.s2 import frbc, pebc
from flexhub.agent.protocols.s2.session import FINAL, CemSession
from flexhub.agent.protocols.s2.state import (
    FRBC,
    NO_SELECTION,
    PEBC,
    InstructionAnswered,
    InstructionRejected,
    InstructionResult,
    InstructionStatusChanged,
    Outcome,
    ResourceConfig,
    ResourceConnected,
    ResourceDisconnected,
    ResourceInfo,
    ResourceRecord,
)
from flexhub.agent.protocols.servers import close_server

log = logging.getLogger(__name__)


class UnknownResource(KeyError):
    """No resource with this id is configured."""


class Cem:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str | ResourceConfig] | None = None,
        *,
        path: str = "/s2",
        ssl: ssl_module.SSLContext | None = None,
        clock: Now | None = None,
        reception_timeout: float = 5.0,
        ready_timeout: float = 5.0,
        status_timeout: float = 2.0,
        ping_interval: float | None = 60.0,
        on_event: Callable[[object], Any] | None = None,
    ) -> None:
        self.host, self._port, self.path = host, port, "/" + path.strip("/")
        self.ssl = ssl
        self.clock = clock or WallClock()
        self.reception_timeout = reception_timeout
        self.ready_timeout, self.status_timeout = ready_timeout, status_timeout
        self.ping_interval = ping_interval
        self.listeners = Listeners()
        if on_event is not None:
            self.listeners.add(on_event)
        self._records: dict[str, ResourceRecord] = {}
        for resource_id, config in (tokens or {}).items():
            self.add_resource(resource_id, config)
        self._server: Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._expiry: dict[str, asyncio.Task] = {}  # hands a resource back when its time is up

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Cem:
        self._server = await serve(
            self._connection,
            self.host,
            self._port,
            ssl=self.ssl,
            process_request=self._check_handshake,
            compression=None,
            ping_interval=self.ping_interval,
            logger=log,
        )
        return self

    async def stop(self) -> None:
        server, self._server = self._server, None
        await close_server(server, lambda: [*self._tasks, *self._expiry.values()])
        await self.listeners.aclose()

    async def __aenter__(self) -> Cem:
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
        """The URL resource managers are given, without their id: ``<url>/<resource id>``."""
        return f"{'wss' if self.ssl else 'ws'}://{self.host}:{self.port}{self.path}"

    def add_resource(self, resource_id: str, config: str | ResourceConfig) -> None:
        if isinstance(config, str):
            config = ResourceConfig(token=config)
        rec = self._records.get(resource_id)
        if rec is None:
            self._records[resource_id] = ResourceRecord(resource_id, config)
        else:
            rec.config = config

    # --- reading -------------------------------------------------------------------------

    def resources(self) -> list[ResourceInfo]:
        return [rec.info() for rec in self._records.values()]

    def resource(self, resource_id: str) -> ResourceInfo:
        return self._record(resource_id).info()

    def energy_by_hour(
        self, resource_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> dict[datetime, float]:
        """Net kWh per UTC hour, from the resource's power measurements (each held until the
        next one; not across a lost connection)."""
        return self._record(resource_id).energy.by_hour(start, end)

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        return await self.listeners.wait_for(condition, timeout)

    # --- driving -------------------------------------------------------------------------

    async def apply_schedule(
        self, resource_id: str, horizon: Horizon, power_kw: Sequence[float]
    ) -> InstructionResult:
        """Have the resource draw ``power_kw[k]`` during step ``k`` (negative: feed back)."""
        rec = self._record(resource_id)
        periods = periods_of(horizon, power_kw)
        if horizon.end <= self.clock.now():
            raise ValueError("the horizon is over")
        rec.schedule = periods
        rec.version += 1
        return await self._push(rec)

    async def set_power(self, resource_id: str, kw: float | None) -> InstructionResult:
        """Hold ``kw`` from now until told otherwise; None hands the resource back."""
        if kw is None:
            return await self.release(resource_id)
        rec = self._record(resource_id)
        rec.schedule = single(self.clock.now(), OPEN_END, kw)
        rec.version += 1
        return await self._push(rec)

    async def cap(
        self, resource_id: str, limit_kw: float, start: datetime, end: datetime
    ) -> InstructionResult:
        """Keep the resource's draw under ``limit_kw`` from ``start`` to ``end``: a PEBC
        envelope, or on an FRBC resource its schedule capped."""
        rec = self._record(resource_id)
        rec.cap = single(start, end, limit_kw)
        rec.version += 1
        return await self._push(rec)

    async def release(self, resource_id: str) -> InstructionResult:
        """Drop flexhub's schedule and cap; the resource is back on its own control."""
        rec = self._record(resource_id)
        rec.schedule, rec.cap = (), ()
        rec.version += 1
        return await self._push(rec)

    async def clear_schedule(self, resource_id: str) -> InstructionResult:
        """Drop flexhub's schedule (or held power) and keep its cap; with no cap either, the
        resource is back on its own control."""
        rec = self._record(resource_id)
        rec.schedule = ()
        rec.version += 1
        return await self._push(rec)

    async def release_cap(self, resource_id: str) -> InstructionResult:
        rec = self._record(resource_id)
        rec.cap = ()
        rec.version += 1
        return await self._push(rec)

    # --- the handshake and connections ---------------------------------------------------

    def _resource_of(self, path: str) -> str | None:
        prefix, _, resource_id = path.split("?", 1)[0].rstrip("/").rpartition("/")
        if prefix != self.path.rstrip("/") or not resource_id:
            return None
        return unquote(resource_id)

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        resource_id = self._resource_of(request.path)
        rec = self._records.get(resource_id) if resource_id else None
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        ok = (
            rec is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(token.strip().encode(), rec.config.token.encode())
        )
        if not ok:
            log.warning("refused an S2 connection to %s", request.path)
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            response.headers["WWW-Authenticate"] = 'Bearer realm="flexhub"'
            return response
        connection.username = resource_id
        return None

    async def _connection(self, ws: ServerConnection) -> None:
        rec = self._records.get(ws.username)
        if rec is None:
            await ws.close(1008, "unknown resource")
            return
        old = rec.session
        session = rec.session = CemSession(rec, ws, self)
        if old is not None:
            self._spawn(old.close())
        rec.control_type = rec.described = None
        rec.sent, rec.statuses = [], {}  # instruction ids live as long as their session
        rec.sent_version = None
        self.emit(ResourceConnected(rec.resource_id))
        try:
            await session.run()
        finally:
            if rec.session is session:
                rec.session = None
                rec.control_type = rec.described = None  # a selection lasts one session
                rec.energy.hold_until(self.clock.now())
                self.emit(ResourceDisconnected(rec.resource_id))

    # --- the Hub of the sessions ---------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, event: object) -> None:
        self.listeners.emit(event)

    def described(self, record: ResourceRecord) -> None:
        self._spawn(self._push(record))

    def ready(self, record: ResourceRecord) -> None:
        self._spawn(self._push(record))

    def status_changed(self, record: ResourceRecord, instruction_id: str, status: str) -> None:
        self.emit(InstructionStatusChanged(record.resource_id, instruction_id, status))
        if status in ("REJECTED", "ABORTED"):
            log.warning("%s: instruction %s %s", record.resource_id, instruction_id, status)
            self.emit(InstructionRejected(record.resource_id, instruction_id, status))

    # --- sending -------------------------------------------------------------------------

    def _wanted(self, rec: ResourceRecord) -> str | None:
        """The control type for what flexhub wants now; None: leave the resource alone."""
        now = self.clock.now()
        if not remaining(rec.schedule, now) and not remaining(rec.cap, now):
            return None
        offered = (
            [c.value for c in rec.rm_details.available_control_types] if rec.rm_details else []
        )
        for control_type in rec.config.prefer:
            if control_type in offered:
                return control_type
        return ""

    async def _push(self, rec: ResourceRecord, force: bool = False) -> InstructionResult:
        """Tell the resource what flexhub wants, unless this session has been told already."""
        lock = self._locks.setdefault(rec.resource_id, asyncio.Lock())
        async with lock:
            version = rec.version
            if not force and rec.sent_version == version:
                return rec.last_result  # type: ignore[return-value]  (set with sent_version)
            try:
                result = await self._push_locked(rec)
            except (TimeoutError, CouldNotReceiveStatusReceptionError, S2MediumException) as exc:
                result = InstructionResult(
                    rec.resource_id,
                    Outcome.FAILED,
                    rec.control_type,
                    0,
                    f"no answer ({type(exc).__name__}): sent again when the resource is back",
                )
            if result.outcome in (Outcome.ACCEPTED, Outcome.REJECTED):
                rec.sent_version = version
        rec.last_result = result
        self.emit(InstructionAnswered(result))
        self._expire_later(rec)
        return result

    def _expire_later(self, rec: ResourceRecord) -> None:
        """Push again when what flexhub asked is over, so that the resource is handed back."""
        ends = [p[-1].end for p in (rec.schedule, rec.cap) if p and p[-1].end < OPEN_END]
        old = self._expiry.pop(rec.resource_id, None)
        if old is not None and old is not asyncio.current_task():
            old.cancel()
        if not ends:
            return

        async def expire() -> None:
            await sleep_until(self.clock, max(ends))
            self._expiry.pop(rec.resource_id, None)
            await self._push(rec, force=True)

        self._expiry[rec.resource_id] = asyncio.ensure_future(expire())

    async def _push_locked(self, rec: ResourceRecord) -> InstructionResult:
        rid = rec.resource_id
        session = rec.session
        wanted = self._wanted(rec)
        if session is None:
            return InstructionResult(
                rid,
                Outcome.QUEUED,
                rec.control_type,
                0,
                "resource offline: sent when it reconnects",
            )
        if rec.rm_details is None:
            return InstructionResult(
                rid, Outcome.QUEUED, None, 0, "the resource has not described itself yet"
            )
        if wanted is None:
            if rec.control_type == NO_SELECTION:
                return InstructionResult(rid, Outcome.ACCEPTED, NO_SELECTION, 0, "on its own")
            await self._revoke(rec, session, everything=True)
            status = await session.select(NO_SELECTION)
            return self._answer(rec, status, NO_SELECTION, 0, "handed back to its own control")
        if wanted == "":
            return InstructionResult(
                rid, Outcome.REJECTED, None, 0, "the resource offers neither FRBC nor PEBC"
            )
        if rec.control_type != wanted:
            status = await session.select(wanted)
            if status.status != ReceptionStatusValues.OK:
                return self._answer(rec, status, wanted, 0, "")
        if not rec.ready:
            with contextlib.suppress(TimeoutError):
                await self.listeners.wait_for(
                    lambda: rec.ready or rec.session is not session, self.ready_timeout
                )
            if not rec.ready or rec.session is not session:
                return InstructionResult(
                    rid, Outcome.QUEUED, wanted, 0, "waiting for the resource's description"
                )
        if wanted == FRBC:
            return await self._send_frbc(rec, session)
        return await self._send_pebc(rec, session)

    async def _send_frbc(self, rec: ResourceRecord, session: CemSession) -> InstructionResult:
        now = self.clock.now()
        periods = remaining(rec.schedule, now)
        if not periods:  # a cap alone: nothing to cap; what was sent before must not stay
            await self._revoke(rec, session, everything=True)
            await session.select(NO_SELECTION)
            return InstructionResult(
                rec.resource_id,
                Outcome.REJECTED,
                FRBC,
                0,
                "an FRBC resource is capped through its schedule: none is in force "
                "(left on its own control)",
            )
        if rec.cap:
            periods = capped(periods, remaining(rec.cap, now))
        await self._revoke(rec, session)
        sent, clipped = [], []
        for period, choice in frbc.plan(periods, rec.system_description, rec.fill_level):
            message = frbc.instruction(choice, max(period.start, now))
            status = await session.send(message)
            if status.status != ReceptionStatusValues.OK:
                return self._answer(rec, status, FRBC, len(sent), "")
            sent.append(message)
            rec.sent.append(message)
            if choice.clipped:
                clipped.append(period.start)
        return await self._statuses(rec, sent, FRBC, tuple(clipped))

    async def _send_pebc(self, rec: ResourceRecord, session: CemSession) -> InstructionResult:
        now = self.clock.now()
        schedule, cap = remaining(rec.schedule, now), remaining(rec.cap, now)
        if schedule:
            periods, hold = (capped(schedule, cap) if cap else schedule), True
        else:
            periods, hold = cap, False
        message, clipped = pebc.envelope(rec.power_constraints, periods, hold=hold)
        await self._revoke(rec, session)
        status = await session.send(message)
        if status.status != ReceptionStatusValues.OK:
            return self._answer(rec, status, PEBC, 0, "")
        rec.sent.append(message)
        return await self._statuses(rec, [message], PEBC, clipped)

    async def _statuses(
        self, rec: ResourceRecord, sent: list, control_type: str, clipped: tuple
    ) -> InstructionResult:
        """Wait (briefly) for the resource manager's verdict on what was just sent."""
        ids = [str(m.id) for m in sent]

        def decided() -> bool:
            return all(rec.statuses.get(i, "NEW") != "NEW" for i in ids)

        with contextlib.suppress(TimeoutError):
            await self.listeners.wait_for(decided, self.status_timeout)
        refused = [i for i in ids if rec.statuses.get(i) in ("REJECTED", "ABORTED")]
        if refused:
            return InstructionResult(
                rec.resource_id,
                Outcome.REJECTED,
                control_type,
                len(sent),
                f"{len(refused)} instruction(s) refused",
                clipped,
            )
        reason = "" if decided() else "no status from the resource yet"
        return InstructionResult(
            rec.resource_id, Outcome.ACCEPTED, control_type, len(sent), reason, clipped
        )

    def _answer(
        self, rec: ResourceRecord, status: Any, control_type: str | None, n: int, reason: str
    ) -> InstructionResult:
        if status.status == ReceptionStatusValues.OK:
            return InstructionResult(rec.resource_id, Outcome.ACCEPTED, control_type, n, reason)
        why = f"{status.status.value}: {status.diagnostic_label or ''}".rstrip(": ")
        return InstructionResult(rec.resource_id, Outcome.REJECTED, control_type, n, why)

    async def _revoke(self, rec: ResourceRecord, session: CemSession, everything: bool = False):
        """Revoke the instructions sent before that have not finished (not yet started ones
        only, unless ``everything``)."""
        now = self.clock.now()
        keep = []
        for message in rec.sent:
            status = rec.statuses.get(str(message.id), "NEW")
            if status in FINAL:
                continue
            if not everything and message.execution_time <= now and status == "STARTED":
                keep.append(message)  # in force until its successor starts
                continue
            kind = (
                RevokableObjects.FRBC_Instruction
                if message.message_type == "FRBC.Instruction"
                else RevokableObjects.PEBC_Instruction
            )
            await session.send(
                RevokeObject(message_id=uuid.uuid4(), object_type=kind, object_id=message.id)
            )
            rec.statuses[str(message.id)] = "REVOKED"
        rec.sent = keep

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("CEM task failed", exc_info=task.exception())

    def _record(self, resource_id: str) -> ResourceRecord:
        rec = self._records.get(resource_id)
        if rec is None:
            raise UnknownResource(resource_id)
        return rec

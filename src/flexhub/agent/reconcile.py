"""Reconciliation: on start and every ``reconcile_seconds`` the agent reads what the APIs hold
(``/dispatches/v1/`` pending and accepted, ``/obligations/v1/``, ``/events`` of the last two
days) and puts into the inbox, under the same keys a webhook would have used, whatever it has
not seen: what was sent while it was down, or whose webhook was lost, is processed once like
the rest.
A dispatch instruction found so is held to the same SO signature check as one delivered."""

from __future__ import annotations

import logging
from datetime import timedelta

from flexhub.agent.context import Context
from flexhub.agent.receiver import ec_keys, fm_keys
from flexhub.agent.verify import SoSignatures
from flexhub.clock import utcnow

log = logging.getLogger(__name__)
EVENT_TYPES = ("PriceCurve", "LocationLPC", "ResourceLPC", "LPCReservation")
LOOK_BACK = timedelta(days=2)


class Reconciler:
    def __init__(self, ctx: Context, so: SoSignatures | None, on_stored, watch=None) -> None:
        """``watch(obligation)``: asked of every obligation read (availability)."""
        self.ctx = ctx
        self.so = so
        self.on_stored = on_stored
        self.watch = watch

    async def step(self) -> float | None:
        found = 0
        if self.ctx.fm is not None:
            found += await self._dispatches()
            found += await self._obligations()
        if self.ctx.ec is not None:
            found += await self._events()
        if found:
            log.info("reconciliation found %d messages no webhook brought", found)
            self.on_stored()
        return None

    async def _dispatches(self) -> int:
        found = 0
        for status in ("pending", "accepted"):
            async for instruction in self.ctx.fm.iter_dispatches(status=status):
                event = (
                    "dispatch_instruction.stopped"
                    if instruction.instruction_type == "stop"
                    else "dispatch_instruction.created"
                )
                data = instruction.model_dump(mode="json")
                keys = fm_keys(None, event, data)
                if await self.ctx.store.known(keys[-1]):
                    continue
                problem = self.so.check(instruction) if self.so else None
                if problem and instruction.instruction_type == "dispatch":
                    if status == "pending":
                        await self.ctx.store.add_jobs(
                            [
                                (
                                    f"reject:{instruction.id}",
                                    "reject",
                                    0.0,
                                    {"id": instruction.id, "reason": f"SO signature: {problem}"},
                                )
                            ]
                        )
                    continue
                stored = await self.ctx.store.store_message(
                    "fm", event, instruction.id, {"event": event, "data": data, "jti": None}, keys
                )
                if stored is not None:
                    found += 1
                    self.ctx.metrics.reconciled.labels("fm").inc()
        return found

    async def _obligations(self) -> int:
        """Obligations created or changed (noted in the inbox like their webhooks)."""
        found = 0
        async for ob in self.ctx.fm.iter_obligations():
            if self.watch is not None:
                await self.watch(ob)
            data = ob.model_dump(mode="json")
            event = "obligation.updated"
            keys = fm_keys(None, event, data)
            if await self.ctx.store.known(keys[-1]) or await self.ctx.store.known(
                fm_keys(None, "obligation.created", data)[-1]
            ):
                continue
            body = {"event": event, "data": data, "jti": None}
            if await self.ctx.store.store_message("fm", event, ob.id, body, keys):
                found += 1
                self.ctx.metrics.reconciled.labels("fm").inc()
        return found

    async def _events(self) -> int:
        found = 0
        since = utcnow() - LOOK_BACK  # the platform's time, whatever the agent's clock says
        async for event in self.ctx.ec.iter_events():
            if event.createdAt < since:
                break  # newest first
            payload = event.payload.model_dump(mode="json")
            if payload["payloadType"] not in EVENT_TYPES:
                continue
            keys = ec_keys(None, event.id)
            if await self.ctx.store.known(keys[-1]):
                continue
            body = {
                "eventId": event.id,
                "createdAt": event.createdAt.isoformat(),
                "notificationType": None,
                "payload": payload,
            }
            if await self.ctx.store.store_message(
                "ec", payload["payloadType"], event.id, body, keys
            ):
                found += 1
                self.ctx.metrics.reconciled.labels("ec").inc()
        return found

"""The scheduler: runs the jobs that are due by the agent's clock (``tables.jobs``), in order,
and sleeps until the next one (on the wall clock, through ``Clock.to_wall``)."""

from __future__ import annotations

import logging

from flexhub.agent.context import Context, from_ts
from flexhub.agent.dispatch import Dispatcher
from flexhub.agent.events import EventHandler
from flexhub.agent.observe import log_context
from flexhub.agent.processor import RETRY_SECONDS, transient

log = logging.getLogger(__name__)


COMMANDS = frozenset({"dispatch_start", "dispatch_end", "apply_limit", "reject"})


class Scheduler:
    def __init__(
        self, ctx: Context, dispatcher: Dispatcher, events: EventHandler, on_report
    ) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.events = events
        self.on_report = on_report

    async def step(self) -> float | None:
        # what the assets must do first, then the bookkeeping due at the same time (meter
        # samples are read on the hour where the driver keeps such readings, so they lose
        # nothing by waiting behind a dispatch's command)
        jobs = sorted(
            await self.ctx.store.due_jobs(self.ctx.ts()),
            key=lambda j: (j["kind"] not in COMMANDS, j["due"], j["id"]),
        )
        for job in jobs:
            body = job["body"]
            with log_context(job=job["key"], event=body.get("event"), instruction=body.get("id")):
                try:
                    await self.run(job["kind"], body)
                except Exception as exc:
                    if transient(exc):
                        log.warning("the platform could not be reached (%s); later", exc)
                        return RETRY_SECONDS
                    log.exception("job failed")
                await self.ctx.store.finish_job(job["id"])
        due = await self.ctx.store.next_due()
        if due is None:
            return None
        return self.ctx.clock.to_wall(from_ts(due) - self.ctx.now())

    async def run(self, kind: str, body: dict) -> None:
        if kind == "dispatch_start":
            await self.dispatcher.start_window(body["id"])
        elif kind == "dispatch_end":
            await self.dispatcher.end_window(body["id"])
        elif kind == "reject":
            await self.dispatcher.reject(body["id"], body["reason"])
        elif kind == "apply_limit":
            await self.events.apply_limit(body["assets"], body["max_kw"])
        elif kind == "sample":
            await self.events.sample(body["event"], body["hour"], body["assets"], body.get("at"))
        elif kind == "energy_report":
            await self.events.energy_report(
                body["event"], body["start"], body["end"], body["assets"]
            )
            self.on_report()
        elif kind == "lpc_report":
            await self.events.lpc_report(
                body["event"],
                body["start"],
                body["end"],
                body["assets"],
                body["targets"],
                body["per_resource"],
            )
            self.on_report()

"""The reports outbox: every report the agent builds is stored first (``tables.reports``) and
sent by this loop until the Energy Coordination API accepts it; an accepted report is marked
and never sent again, one the API refuses for good (a 4xx other than 429) is kept with the
refusal. The client does not repeat ``POST /reports`` by itself (a lost answer could store it
twice); this loop tries again only after a failure to connect or a 5xx/429."""

from __future__ import annotations

import logging
import time

from flexhub.agent.context import Context
from flexhub.agent.observe import log_context
from flexhub.agent.processor import transient
from flexhub.clients import ApiError

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0


class ReportSender:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def step(self) -> float | None:
        if self.ctx.ec is None:
            return None
        for report in await self.ctx.store.pending_reports():
            with log_context(event=report["event_id"], report=report["key"]):
                try:
                    answer = await self.ctx.ec.send_report(report["body"])
                except Exception as exc:
                    if transient(exc):
                        await self.ctx.store.report_attempt(
                            report["id"], last_error=str(exc)[:2000]
                        )
                        self.ctx.metrics.reports.labels("retry").inc()
                        log.warning("report not sent (%s); later", exc)
                        return RETRY_SECONDS
                    detail = exc.detail if isinstance(exc, ApiError) else str(exc)
                    await self.ctx.store.report_attempt(report["id"], failed=str(detail)[:2000])
                    self.ctx.metrics.reports.labels("refused").inc()
                    log.error("report refused: %s", detail)
                    continue
                await self.ctx.store.report_attempt(
                    report["id"], sent_at=time.time(), platform_id=answer.id
                )
                self.ctx.metrics.reports.labels("sent").inc()
                log.info("report accepted as %s", answer.id)
        return None

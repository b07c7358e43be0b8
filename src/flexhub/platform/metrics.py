"""``/metrics``: Prometheus text with, besides the process collectors, the request metrics
(``middleware.py``), the delivery metrics (``delivery/worker.py``: attempts by outcome, attempt
latency, notifications by final outcome) and, read from the database at each scrape, the
outbox queue (pending rows per channel, age of the oldest due one) and webhook health
(subscriptions per API and status)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import case, func, select

from flexhub.clock import utcnow
from flexhub.store.coordination import EcWebhook
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow
from flexhub.store.flexmarket_webhooks import FmSubscription

OUTBOX_PENDING = Gauge(
    "flexhub_outbox_pending", "Notifications waiting to be delivered", ["channel"]
)
OUTBOX_OLDEST_DUE = Gauge(
    "flexhub_outbox_oldest_due_age_seconds",
    "How long the oldest due notification has been waiting (0 when none is due)",
    ["channel"],
)
WEBHOOKS = Gauge(
    "flexhub_webhooks", "Webhook subscriptions by API and health status", ["api", "status"]
)
CHANNELS = ("coordination", "flexmarket")
EC_STATUSES = ("New", "Healthy", "Unhealthy", "TimeOut", "Disabled")
FM_STATUSES = ("active", "failing", "inactive")


async def collect(db: Database) -> None:
    """Set the gauges read from the database."""
    now = utcnow()
    async with db.session() as session:
        queue = (
            await session.execute(
                select(
                    OutboxRow.channel,
                    func.count(),
                    func.min(case((OutboxRow.next_attempt_at <= now, OutboxRow.next_attempt_at))),
                )
                .where(OutboxRow.status == "pending")
                .group_by(OutboxRow.channel)
            )
        ).all()
        ec_status = case((EcWebhook.enabled.is_(False), "Disabled"), else_=EcWebhook.status)
        ec = (await session.execute(select(ec_status, func.count()).group_by(ec_status))).all()
        fm_status = case(
            (FmSubscription.active.is_(False), "inactive"),
            (FmSubscription.failing_since.is_not(None), "failing"),
            else_="active",
        )
        fm = (await session.execute(select(fm_status, func.count()).group_by(fm_status))).all()
    seen = {channel: (count, oldest) for channel, count, oldest in queue}
    for channel in {*CHANNELS, *seen}:
        count, oldest = seen.get(channel, (0, None))
        OUTBOX_PENDING.labels(channel).set(count)
        age = 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())
        OUTBOX_OLDEST_DUE.labels(channel).set(age)
    for api, statuses, rows in (("coordination", EC_STATUSES, ec), ("flexmarket", FM_STATUSES, fm)):
        counts = dict(rows)
        for status in {*statuses, *counts}:
            WEBHOOKS.labels(api, status).set(counts.get(status, 0))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def metrics_response(db: Database) -> PlainTextResponse:
    await collect(db)
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

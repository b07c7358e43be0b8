"""How a webhook's health follows its deliveries, alike for both APIs.

A failed attempt that will be retried changes nothing the partner sees: only a notification
whose retries are exhausted makes a webhook unhealthy. A subscription remembers since when it
has been failing (``failing_since``, cleared by any success); when a notification is given up
and the subscription has been failing for longer than ``FLEXHUB_WEBHOOK_DISABLE_AFTER_DAYS``, it
is switched off, with a notice in the platform's log and on that attempt in the partner's
delivery log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, null, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.delivery.channel import Attempt, Result
from flexhub.store.base import UTCDateTime

log = logging.getLogger("flexhub.delivery")


def track(
    subscription: Any, attempt: Attempt, final: bool, disable_after: timedelta, switch: str
) -> bool:
    """Update ``failing_since`` after an attempt; switch the subscription off (its boolean
    ``switch`` column) when it has failed for too long. True when it was switched off now."""
    if attempt.succeeded:
        subscription.failing_since = None
        return False
    if subscription.failing_since is None:
        subscription.failing_since = attempt.attempted_at
    if not final or not getattr(subscription, switch):
        return False
    failing_for = attempt.attempted_at - subscription.failing_since
    if failing_for < disable_after:
        return False
    setattr(subscription, switch, False)
    since = subscription.failing_since.isoformat(timespec="seconds")
    notice = (
        f"webhook disabled: every delivery has failed since {since}; "
        "fix the endpoint and enable the webhook again"
    )
    attempt.error = f"{attempt.error}; {notice}" if attempt.error else notice
    log.warning(
        "%s webhook %s of partner %s disabled: failing since %s (%s)",
        attempt.channel,
        subscription.id,
        subscription.tenant_id,
        since,
        attempt.url,
    )
    return True


async def track_many(
    session: AsyncSession, model: Any, results: list[Result], healthy: dict[str, Any] | None = None
) -> list[Result]:
    """``failing_since`` of a batch's subscriptions in one UPDATE per attempt time, with no read:
    a success clears it, a failure keeps it or sets it to the attempt's time (as :func:`track`
    one attempt after the other). ``healthy`` are further columns set where an attempt succeeded,
    and each updated subscription's ``last_analyzed_at`` when the model has one.

    A subscription with a final failure in the batch may have to be switched off, with a notice
    on its attempt: its results are returned, in order, for :func:`track` one by one."""
    by_sub: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_sub[result[0].subscription_id].append(result)
    slow: list[Result] = []
    groups: dict[datetime, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for sub, subs in by_sub.items():
        if any(final and not attempt.succeeded for _, attempt, final in subs):
            slow.extend(subs)
            continue
        at = max(attempt.attempted_at for _, attempt, _ in subs)
        group = groups[at]
        group["ids"].append(sub)
        if subs[-1][1].succeeded:
            group["ok_last"].append(sub)
        elif any(attempt.succeeded for _, attempt, _ in subs):
            group["reset"].append(sub)  # failed after a success: failing since this batch
        if any(attempt.succeeded for _, attempt, _ in subs):
            group["any_ok"].append(sub)
    stmt = _health_update(model, healthy or {})
    for at, group in groups.items():
        params = {"when": at, **{k: group[k] for k in ("ids", "ok_last", "reset", "any_ok")}}
        await session.execute(stmt, params)
    return slow


def _health_update(model: Any, healthy: dict[str, Any]) -> Any:
    """:func:`track_many`'s UPDATE, built once per table (the statement's form is the same for
    every batch, its id lists are expanding parameters): no statement built and no cache key
    computed per batch."""
    key = (model, tuple(sorted(healthy.items())))
    stmt = _HEALTH_UPDATES.get(key)
    if stmt is not None:
        return stmt
    when = bindparam("when", type_=UTCDateTime())

    def among(name: str) -> Any:
        return model.id.in_(bindparam(name, expanding=True))

    values: dict[str, Any] = {
        "failing_since": case(
            (among("ok_last"), null()),
            (among("reset"), when),
            else_=func.coalesce(model.failing_since, when),
        )
    }
    for column, value in healthy.items():
        values[column] = case((among("any_ok"), value), else_=getattr(model, column))
    if hasattr(model, "last_analyzed_at"):
        values["last_analyzed_at"] = when
    stmt = _HEALTH_UPDATES[key] = (
        update(model)
        .where(among("ids"))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return stmt


_HEALTH_UPDATES: dict[tuple, Any] = {}

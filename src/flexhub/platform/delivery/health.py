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
from datetime import timedelta
from typing import Any

from flexhub.store.delivery import DeliveryAttempt

log = logging.getLogger("flexhub.delivery")


def track(
    subscription: Any, attempt: DeliveryAttempt, final: bool, disable_after: timedelta, switch: str
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

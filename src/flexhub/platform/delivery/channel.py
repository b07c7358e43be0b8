"""The channel protocol: one API's way of turning outbox rows into signed HTTP requests and of
recording the outcome on its own subscriptions.

The delivery engine knows nothing else about the APIs: the app factory and the worker command
build the channels and hand them to :class:`~flexhub.platform.delivery.worker.Worker`; rows
name their channel by :attr:`Channel.name`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import RetryPolicy
from flexhub.store.delivery import OutboxRow


@dataclass
class Prepared:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    signature: str | None = None


@dataclass(slots=True)
class Attempt:
    """One delivery attempt as the worker records it: a row of ``delivery_attempts`` (every
    column but the key) as a plain object. The worker makes one per delivery; as an ORM
    instance each cost its 17 instrumented attribute sets, and reading them back for the bulk
    insert as many instrumented reads."""

    outbox_id: str
    tenant_id: str
    channel: str
    subscription_id: str
    event_id: str
    event_type: str
    url: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    timed_out: bool
    succeeded: bool
    error: str | None
    signature: str | None
    body: str
    worker: str | None

    def values(self) -> dict:
        """The row to insert."""
        return {name: getattr(self, name) for name in ATTEMPT_FIELDS}


ATTEMPT_FIELDS = tuple(f.name for f in fields(Attempt))
Result = tuple[OutboxRow, Attempt, bool]  # a row, its attempt, whether that attempt was its last


class Channel(Protocol):
    name: str
    retry: RetryPolicy

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow]
    ) -> dict[str, Prepared | None]:
        """Request per row id; None when the subscription is gone or disabled (row dropped)."""
        ...

    async def record(self, session: AsyncSession, results: list[Result]) -> None:
        """Update the subscriptions after a batch's attempts, ``(row, attempt, final)`` in
        order (health status and the like), in bulk; may add a notice to an attempt's error."""
        ...

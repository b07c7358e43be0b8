"""The channel protocol: one API's way of turning outbox rows into signed HTTP requests and of
recording the outcome on its own subscriptions.

The delivery engine knows nothing else about the APIs: the app factory and the worker command
build the channels and hand them to :class:`~flexhub.platform.delivery.worker.Worker`; rows
name their channel by :attr:`Channel.name`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import RetryPolicy
from flexhub.store.delivery import DeliveryAttempt, OutboxRow


@dataclass
class Prepared:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    signature: str | None = None


class Channel(Protocol):
    name: str
    retry: RetryPolicy

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow]
    ) -> dict[str, Prepared | None]:
        """Request per row id; None when the subscription is gone or disabled (row dropped)."""
        ...

    async def record(
        self, session: AsyncSession, results: list[tuple[OutboxRow, DeliveryAttempt, bool]]
    ) -> None:
        """Update the subscriptions after a batch's attempts, ``(row, attempt, final)`` in
        order (health status and the like), in bulk; may add a notice to an attempt's error."""
        ...

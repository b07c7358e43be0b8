"""A channel is one API's way of turning an outbox row into a signed HTTP request and of
recording the outcome on its own subscription. The worker knows nothing else about the APIs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import RetryPolicy, Settings
from flexhub.store.delivery import DeliveryAttempt, OutboxRow

if TYPE_CHECKING:
    from flexhub.platform.context import PlatformContext


@dataclass
class Prepared:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    signature: str | None = None


class Channel(Protocol):
    name: str

    def retry_policy(self, settings: Settings) -> RetryPolicy: ...

    async def prepare(
        self, session: AsyncSession, rows: list[OutboxRow], ctx: PlatformContext
    ) -> dict[str, Prepared | None]:
        """Request per row id; None when the subscription is gone or disabled (row dropped)."""
        ...

    async def record(
        self, session: AsyncSession, row: OutboxRow, attempt: DeliveryAttempt, final: bool
    ) -> None:
        """Update the subscription after an attempt (health status and the like)."""
        ...


_REGISTRY: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    _REGISTRY[channel.name] = channel
    return channel


def get(name: str) -> Channel:
    if name not in _REGISTRY:  # one built-in channel imported elsewhere must not hide the others
        load_builtin()
    return _REGISTRY[name]


def load_builtin() -> None:
    """Import the channels that ship with the platform (they register themselves)."""
    import flexhub.platform.coordination.notifications  # noqa: F401
    import flexhub.platform.flexmarket.notifications  # noqa: F401

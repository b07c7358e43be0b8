"""What every client shares: construction of its :class:`ApiSession`, the async context
manager and ``close()``."""

from __future__ import annotations

from typing import Any, Self

import aiohttp

from flexhub.clients.http import ApiSession
from flexhub.clients.retry import RetryPolicy
from flexhub.clients.tokens import TokenCache, TokenSource
from flexhub.clock import Clock, SystemClock


class BaseClient:
    def __init__(
        self,
        base_url: str,
        source: TokenSource | None,
        *,
        session: aiohttp.ClientSession | None,
        timeout: float,
        retry: RetryPolicy | None,
        wall_clock: Clock | None,
    ) -> None:
        self.wall_clock = wall_clock or SystemClock()
        tokens = TokenCache(source, self.wall_clock) if source is not None else None
        self.api = ApiSession(
            base_url, tokens=tokens, session=session, timeout=timeout, retry=retry
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client's own aiohttp session (a session handed in stays open)."""
        await self.api.close()

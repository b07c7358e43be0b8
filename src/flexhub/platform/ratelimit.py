"""Rate limits (the ``limits`` library, sliding window counters): token requests per client id
and per source address, API calls per partner. Over a limit the request is answered 429 with
``Retry-After`` (seconds) in the API's own error format.

State is kept in memory for one process, or in Redis (``FLEXHUB_RATE_LIMIT_STORAGE=redis://
host:port/db``) so that several processes share one count. When the storage cannot be reached
the request is let through and the failure logged: a limiter outage must not stop the APIs.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from flexhub.config import Settings
from flexhub.platform.errors import ApiError

log = logging.getLogger("flexhub.ratelimit")


def _item(text: str) -> RateLimitItem | None:
    return parse(text) if text.strip() else None


def storage_uri(configured: str) -> str:
    """The async form of a storage URI (``redis://...`` → ``async+redis://...``)."""
    uri = configured.strip() or "memory://"
    return uri if uri.startswith("async+") else "async+" + uri


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.uri = storage_uri(settings.rate_limit_storage)
        self.prefix = settings.rate_limit_prefix
        self.token_per_client = _item(settings.rate_limit_token_per_client)
        self.token_per_address = _item(settings.rate_limit_token_per_address)
        self.api_per_partner = _item(settings.rate_limit_api_per_partner)
        self._limiter: SlidingWindowCounterRateLimiter | None = None

    def _strategy(self) -> SlidingWindowCounterRateLimiter:
        if self._limiter is None:  # made on first use, inside the serving event loop
            options: dict = {}
            if "redis" in self.uri:
                options = {"implementation": "redispy", "key_prefix": self.prefix}
            self._limiter = SlidingWindowCounterRateLimiter(
                storage_from_string(self.uri, **options)
            )
        return self._limiter

    async def _hit(self, item: RateLimitItem | None, *key: str) -> None:
        if item is None:
            return
        limiter = self._strategy()
        try:
            if await limiter.hit(item, self.prefix, *key):
                return
            reset, _ = await limiter.get_window_stats(item, self.prefix, *key)
        except Exception:  # storage unreachable: let the request through
            log.warning("rate limit storage %s failed; request allowed", self.uri, exc_info=True)
            return
        retry_after = max(1, math.ceil(reset - time.time()))
        raise ApiError(
            429,
            f"Too many requests: at most {item.amount} per {item.multiples} "
            f"{item.GRANULARITY.name}(s). Retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
            code="temporarily_unavailable",
        )

    async def token_request(self, client_id: str, address: str) -> None:
        """Count a token request; 429 when the client id or the address is over its limit.
        Every request counts, whether the id exists and the secret is right or not."""
        await self._hit(self.token_per_address, "token-address", address)
        await self._hit(self.token_per_client, "token-client", client_id)

    async def api_call(self, partner_id: str) -> None:
        await self._hit(self.api_per_partner, "api-partner", partner_id)

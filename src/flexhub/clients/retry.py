"""When a request is tried again, and how long the client waits first (tenacity).

Tried again: a 429 (the server did not act on the request); a 502, 503 or 504 and a failed or
timed-out connection when the request may safely be repeated (GET, PUT, DELETE, and POSTs the
API makes idempotent, such as an instruction with the same ``so_reference``); a connection that
could not be opened at all, whatever the request. The wait is exponential with jitter, and
exactly the server's ``Retry-After`` when it sent one (capped at ``max_wait``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt
from tenacity.retry import retry_base
from tenacity.wait import wait_base, wait_random_exponential

from flexhub.clients.errors import ApiError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
UNSENT = (aiohttp.ClientConnectorError,)  # the request never left: always safe to repeat
UNANSWERED = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; waits ``initial`` × 2ⁿ (random, at most ``max_wait``) or what
    ``Retry-After`` says. ``sleep`` is how the client waits (tests may record the waits)."""

    attempts: int = 5
    initial: float = 0.5
    max_wait: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def retrying(self, idempotent: bool) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=_WaitRetryAfter(self.initial, self.max_wait),
            retry=_Retryable(idempotent),
            sleep=self.sleep,
            reraise=True,
        )


NO_RETRY = RetryPolicy(attempts=1)


def retryable(exc: BaseException, idempotent: bool) -> bool:
    if isinstance(exc, ApiError):
        return exc.status == 429 or (idempotent and exc.status in RETRY_STATUSES)
    if isinstance(exc, UNSENT):
        return True
    return idempotent and isinstance(exc, UNANSWERED)


class _Retryable(retry_base):
    def __init__(self, idempotent: bool) -> None:
        self.idempotent = idempotent

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        if outcome is None or not outcome.failed:
            return False
        return retryable(outcome.exception(), self.idempotent)


class _WaitRetryAfter(wait_base):
    def __init__(self, initial: float, max_wait: float) -> None:
        self.max_wait = max_wait
        self.backoff = wait_random_exponential(multiplier=initial, max=max_wait)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            return min(self.max_wait, exc.retry_after)
        return self.backoff(retry_state)

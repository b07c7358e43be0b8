"""Access tokens: how each API hands them out, and a cache that refreshes them before they
expire.

- :class:`ClientCredentials`: OAuth2 client credentials, ``POST <token_url>`` form-encoded
  (``grant_type=client_credentials``, ``client_id``, ``client_secret``) →
  ``{"access_token", "expires_in"}``. The Energy Coordination API (Volue's token endpoint is on
  another host than its API; flexhub's is ``/connect/token``).
- :class:`ApiKeyToken`: the Flex Market's ``POST /authtoken/v1/`` with
  ``{"client_id", "api_key"}`` → ``{"token"}``; its lifetime is read from the JWT's ``exp``
  claim (unverified: the client only needs to know when to fetch the next one).

Secrets live only in these objects; their ``repr`` leaves them out and nothing logs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import jwt

from flexhub.clock import Clock, SystemClock

# When a token's lifetime cannot be read: assume it lasts this long.
DEFAULT_LIFETIME = timedelta(minutes=5)
# Refresh this long before expiry: a tenth of the lifetime, at most a minute.
MAX_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: datetime
    lifetime: timedelta

    def fresh(self, now: datetime) -> bool:
        margin = min(MAX_MARGIN, self.lifetime / 10)
        return now < self.expires_at - margin


# ``post(url, *, data=..., json=...)`` → the parsed JSON body (raising ApiError off 2xx).
Post = Callable[..., Awaitable[Any]]


class TokenSource(Protocol):
    token_url: str

    async def fetch(self, post: Post, now: datetime) -> Token: ...


@dataclass(frozen=True)
class ClientCredentials:
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None

    async def fetch(self, post: Post, now: datetime) -> Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        body = await post(self.token_url, data=form)
        value = body["access_token"]
        seconds = body.get("expires_in")
        lifetime = timedelta(seconds=float(seconds)) if seconds else _jwt_lifetime(value, now)
        return Token(value, now + lifetime, lifetime)


@dataclass(frozen=True)
class ApiKeyToken:
    token_url: str
    client_id: str
    api_key: str = field(repr=False)

    async def fetch(self, post: Post, now: datetime) -> Token:
        body = await post(
            self.token_url, json={"client_id": self.client_id, "api_key": self.api_key}
        )
        value = body["token"]
        lifetime = _jwt_lifetime(value, now)
        return Token(value, now + lifetime, lifetime)


def _jwt_lifetime(value: str, now: datetime) -> timedelta:
    """How long from ``now`` the token's ``exp`` claim lets it live (opaque tokens: default)."""
    try:
        claims = jwt.decode(value, options={"verify_signature": False})
    except jwt.PyJWTError:
        return DEFAULT_LIFETIME
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        return DEFAULT_LIFETIME
    left = timedelta(seconds=exp - now.timestamp())
    return left if left > timedelta(0) else DEFAULT_LIFETIME


class TokenCache:
    """The current token of one client: fetched on first use, fetched again shortly before it
    expires or when the API refused it (``invalidate``). Concurrent callers share one fetch."""

    def __init__(self, source: TokenSource, clock: Clock | None = None) -> None:
        self.source = source
        self.clock = clock or SystemClock()
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many tokens were fetched (for tests and benchmarks)

    @property
    def current(self) -> Token | None:
        return self._token

    async def get(self, post: Post) -> str:
        token = self._token
        if token is not None and token.fresh(self.clock.now()):
            return token.value
        async with self._lock:
            token = self._token
            if token is None or not token.fresh(self.clock.now()):
                token = await self.source.fetch(post, self.clock.now())
                self.fetches += 1
                self._token = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` (refused by the API) unless another caller already replaced it."""
        if self._token is not None and self._token.value == value:
            self._token = None

"""What the two Flex Market clients share: the token exchange (``POST /authtoken/v1/`` with
``{"client_id", "api_key"}`` → ``{"token"}``), construction, and the wire's text forms of the
values callers may hand in as Python objects (times as ISO-8601 UTC with ``Z``, dates, decimal
strings: the API keeps them as sent, and an SO signs them as sent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel

from flexhub.clients.base import BaseClient
from flexhub.clients.http import typed
from flexhub.clients.paging import fm_pages
from flexhub.clients.retry import RetryPolicy
from flexhub.clients.tokens import ApiKeyToken
from flexhub.clock import Clock
from flexhub.wire.flexmarket.dispatches import InstructionOut
from flexhub.wire.flexmarket.obligations import ObligationOut
from flexhub.wire.flexmarket.values import iso

TOKEN_PATH = "/authtoken/v1/"
R = TypeVar("R", bound=BaseModel)


Day = date | str | None


def seg(value: str) -> str:
    """One URL path segment."""
    return quote(value, safe="")


def wire_text(value: str | datetime | date | Decimal | float | None) -> str | None:
    """A value as the Flex Market wire writes it: a datetime as ISO-8601 UTC with ``Z`` (whole
    seconds when it has no microseconds), a date as ``YYYY-MM-DD``, a number as a decimal
    string; text unchanged."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


class FlexMarketClient(BaseClient):
    """Base of the provider and system operator clients: ``base_url`` is the API host
    (``https://api.picloflex.com``, or flexhub's root); ``token_url`` defaults to
    ``<base_url>/authtoken/v1/``."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        api_key: str,
        token_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        wall_clock: Clock | None = None,
    ) -> None:
        source = ApiKeyToken(token_url or base_url.rstrip("/") + TOKEN_PATH, client_id, api_key)
        super().__init__(
            base_url, source, session=session, timeout=timeout, retry=retry, wall_clock=wall_clock
        )

    async def _get(self, path: str, model: type[R], **params: Any) -> R:
        return typed(model, await self.api.request("GET", path, params=params))

    async def _post(
        self, path: str, model: type[R], body: Any = None, *, idempotent: bool = False
    ) -> R:
        answer = await self.api.request("POST", path, json_body=body, idempotent=idempotent)
        return typed(model, answer)

    async def _patch(self, path: str, model: type[R], body: Any) -> R:
        answer = await self.api.request("PATCH", path, json_body=body, idempotent=True)
        return typed(model, answer)

    # --- obligations (the provider's own, or those the SO awarded) -------------------------

    OBLIGATIONS = "/obligations/v1/"
    DISPATCHES = "/dispatches/v1/"

    def iter_dispatches(
        self,
        *,
        status: str | None = None,
        obligation_id: str | None = None,
        start_since: datetime | date | str | None = None,
        start_to: datetime | date | str | None = None,
        limit: int = 100,
    ) -> AsyncIterator[InstructionOut]:
        """Dispatch instructions, paged (the provider's own, or those the SO issued)."""
        params = {
            "status": status,
            "obligation_id": obligation_id,
            "start_since": wire_text(start_since),
            "start_to": wire_text(start_to),
        }
        return fm_pages(self.api, self.DISPATCHES, InstructionOut, limit=limit, params=params)

    def iter_obligations(
        self,
        *,
        start_since: Day = None,
        start_to: Day = None,
        end_since: Day = None,
        end_to: Day = None,
        competition_id: str | None = None,
        bid_id: str | None = None,
        limit: int = 100,
    ) -> AsyncIterator[ObligationOut]:
        params = {
            "start_since": wire_text(start_since),
            "start_to": wire_text(start_to),
            "end_since": wire_text(end_since),
            "end_to": wire_text(end_to),
            "competition_id": competition_id,
            "bid_id": bid_id,
        }
        return fm_pages(self.api, self.OBLIGATIONS, ObligationOut, limit=limit, params=params)

    async def get_obligation(self, obligation_id: str) -> ObligationOut:
        return await self._get(f"{self.OBLIGATIONS}{seg(obligation_id)}/", ObligationOut)

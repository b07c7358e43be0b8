"""The Flex Market API v1 client of a flexibility provider.

``FlexMarketProviderClient(base_url, *, client_id, api_key, token_url=None, session=None,
timeout=30.0, retry=None, wall_clock=None)``: token from ``POST /authtoken/v1/``
(``{"client_id", "api_key"}`` → ``{"token"}``), refreshed before its ``exp``.

Methods (typed results are the ``flexhub.wire.flexmarket`` models; ``iter_*`` page through
``?limit=&offset=``; times may be given as datetimes, quantities as Decimals):

- dispatches: ``iter_dispatches(status=, obligation_id=, start_since=, start_to=)``,
  ``get_dispatch``, ``accept_dispatch``, ``reject_dispatch(id, reason)``
- obligations: ``iter_obligations(start_since=, start_to=, end_since=, end_to=,
  competition_id=, bid_id=)``, ``get_obligation``, ``iter_obligation_assets``,
  ``declare_availability_variation``, ``iter_availability_variations``
- assets: ``iter_assets(ref=)``, ``get_asset``, ``create_asset``, ``update_asset``
- competitions: ``get_competition`` (the parent of one of the provider's obligations)
- webhook keys (no token): ``get_public_key``, ``get_jwks``
- webhook subscriptions: ``iter_subscriptions``, ``get_subscription``,
  ``create_subscription``, ``update_subscription``, ``delete_subscription``,
  ``ensure_subscription(url, events)``; delivery log: ``iter_deliveries``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from flexhub.clients.flexmarket_common import FlexMarketClient, seg, wire_text
from flexhub.clients.http import as_model, typed
from flexhub.clients.paging import collect, fm_pages
from flexhub.wire.flexmarket.assets import AssetIn, AssetOut, AssetPatch
from flexhub.wire.flexmarket.competitions import CompetitionOut
from flexhub.wire.flexmarket.dispatches import InstructionOut, RejectIn
from flexhub.wire.flexmarket.obligations import VariationIn, VariationOut
from flexhub.wire.flexmarket.webhooks import (
    Delivery,
    Jwks,
    PublicKey,
    Subscription,
    SubscriptionCreate,
    SubscriptionPatch,
)

Instant = datetime | str | None


class FlexMarketProviderClient(FlexMarketClient):
    # --- dispatch instructions -------------------------------------------------------------

    async def get_dispatch(self, instruction_id: str) -> InstructionOut:
        return await self._get(f"/dispatches/v1/{seg(instruction_id)}/", InstructionOut)

    async def accept_dispatch(self, instruction_id: str) -> InstructionOut:
        path = f"/dispatches/v1/{seg(instruction_id)}/accept/"
        return await self._post(path, InstructionOut, {})

    async def reject_dispatch(self, instruction_id: str, reason: str) -> InstructionOut:
        path = f"/dispatches/v1/{seg(instruction_id)}/reject/"
        return await self._post(path, InstructionOut, RejectIn(reason=reason))

    # --- obligations -----------------------------------------------------------------------

    def iter_obligation_assets(
        self, obligation_id: str, *, limit: int = 100
    ) -> AsyncIterator[AssetOut]:
        path = f"/assets/v1/obligations/{seg(obligation_id)}/"
        return fm_pages(self.api, path, AssetOut, limit=limit)

    async def declare_availability_variation(
        self,
        obligation_id: str,
        *,
        start: datetime | str,
        end: datetime | str,
        available_capacity: Decimal | str | float,
        reason: str | None = None,
    ) -> VariationOut:
        body = VariationIn(
            start=wire_text(start),
            end=wire_text(end),
            available_capacity=wire_text(available_capacity),
            reason=reason,
        )
        path = f"/obligations/v1/{seg(obligation_id)}/availability-variations/"
        return await self._post(path, VariationOut, body)

    def iter_availability_variations(
        self, obligation_id: str, *, limit: int = 100
    ) -> AsyncIterator[VariationOut]:
        path = f"/obligations/v1/{seg(obligation_id)}/availability-variations/"
        return fm_pages(self.api, path, VariationOut, limit=limit)

    # --- assets ----------------------------------------------------------------------------

    def iter_assets(self, *, ref: str | None = None, limit: int = 100) -> AsyncIterator[AssetOut]:
        return fm_pages(self.api, "/assets/v1/", AssetOut, limit=limit, params={"ref": ref})

    async def get_asset(self, asset_id: str) -> AssetOut:
        return await self._get(f"/assets/v1/{seg(asset_id)}/", AssetOut)

    async def create_asset(self, asset: AssetIn | dict[str, Any]) -> AssetOut:
        return await self._post("/assets/v1/", AssetOut, as_model(AssetIn, asset))

    async def update_asset(self, asset_id: str, patch: AssetPatch | dict[str, Any]) -> AssetOut:
        path = f"/assets/v1/{seg(asset_id)}/"
        return await self._patch(path, AssetOut, as_model(AssetPatch, patch))

    # --- competitions ----------------------------------------------------------------------

    async def get_competition(self, competition_id: str) -> CompetitionOut:
        return await self._get(f"/competitions/v1/{seg(competition_id)}/", CompetitionOut)

    # --- webhook verification keys (public) ------------------------------------------------

    async def get_public_key(self) -> PublicKey:
        answer = await self.api.request("GET", "/webhook/v1/public-key/", auth=False)
        return typed(PublicKey, answer)

    async def get_jwks(self) -> Jwks:
        return typed(Jwks, await self.api.request("GET", "/webhook/v1/jwks/", auth=False))

    # --- webhook subscriptions and deliveries ----------------------------------------------

    def iter_subscriptions(self, *, limit: int = 100) -> AsyncIterator[Subscription]:
        return fm_pages(self.api, "/webhook/v1/subscriptions/", Subscription, limit=limit)

    async def get_subscription(self, subscription_id: str) -> Subscription:
        return await self._get(f"/webhook/v1/subscriptions/{seg(subscription_id)}/", Subscription)

    async def create_subscription(
        self, url: str, events: Sequence[str], *, active: bool = True
    ) -> Subscription:
        body = SubscriptionCreate(url=url, events=list(events), active=active)
        return await self._post("/webhook/v1/subscriptions/", Subscription, body)

    async def update_subscription(
        self,
        subscription_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        active: bool | None = None,
    ) -> Subscription:
        body = SubscriptionPatch(
            url=url, events=list(events) if events is not None else None, active=active
        )
        return await self._patch(
            f"/webhook/v1/subscriptions/{seg(subscription_id)}/", Subscription, body
        )

    async def delete_subscription(self, subscription_id: str) -> None:
        await self.api.request("DELETE", f"/webhook/v1/subscriptions/{seg(subscription_id)}/")

    async def ensure_subscription(self, url: str, events: Sequence[str]) -> Subscription:
        """Leave exactly one subscription for ``url``, active, with exactly ``events``: the
        first one found is updated (when it differs), others for the URL are deleted, and one
        is created when there is none."""
        same = [s for s in await collect(self.iter_subscriptions()) if s.url == url]
        if not same:
            return await self.create_subscription(url, events)
        keep, *extra = same
        for subscription in extra:
            await self.delete_subscription(subscription.id)
        if sorted(keep.events) == sorted(events) and keep.active:
            return keep
        return await self.update_subscription(keep.id, events=events, active=True)

    def iter_deliveries(
        self,
        *,
        subscription_id: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> AsyncIterator[Delivery]:
        """Every delivery attempt to the provider's webhooks, newest first."""
        params = {"subscription_id": subscription_id, "event_id": event_id}
        return fm_pages(self.api, "/webhook/v1/deliveries/", Delivery, limit=limit, params=params)

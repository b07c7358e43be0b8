"""The Flex Market API v1 client of a system operator (``/so/v1/``).

``FlexMarketOperatorClient(base_url, *, client_id, api_key, signing_key=None, token_url=None,
session=None, timeout=30.0, retry=None, wall_clock=None)``. With ``signing_key`` (the SO's own
Ed25519 key) every instruction it issues or stops carries the SO's signature over the canonical
form of ``flex-market-v1.md`` (``flexhub.signing.so_sign``).

Methods (typed results are the ``flexhub.wire.flexmarket`` models; ``iter_*`` page through
``?limit=&offset=``):

- competitions: ``create_competition``, ``iter_competitions``, ``get_competition``
- obligations: ``award_obligation``, ``iter_obligations(...)``, ``get_obligation``
- dispatch instructions: ``issue_dispatch``, ``stop_dispatch``, ``iter_dispatches(status=,
  obligation_id=, start_since=, start_to=)``, ``get_dispatch`` (with the provider's answer and
  the state of each webhook delivery about it)
- availability: ``iter_availability_variations(obligation_id=)``
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ed25519

from flexhub import signing
from flexhub.clients.flexmarket_common import FlexMarketClient, seg, wire_text
from flexhub.clients.http import as_model
from flexhub.clients.paging import fm_pages
from flexhub.clients.retry import RetryPolicy
from flexhub.clock import Clock
from flexhub.wire.flexmarket.competitions import CompetitionIn, CompetitionOut
from flexhub.wire.flexmarket.dispatches import DispatchIn, InstructionOut, SoInstructionOut, StopIn
from flexhub.wire.flexmarket.obligations import ObligationIn, ObligationOut, VariationOut
from flexhub.wire.flexmarket.values import parse_instant


class FlexMarketOperatorClient(FlexMarketClient):
    OBLIGATIONS = "/so/v1/obligations/"
    DISPATCHES = "/so/v1/dispatches/"

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        api_key: str,
        signing_key: ed25519.Ed25519PrivateKey | None = None,
        token_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        wall_clock: Clock | None = None,
    ) -> None:
        super().__init__(
            base_url,
            client_id=client_id,
            api_key=api_key,
            token_url=token_url,
            session=session,
            timeout=timeout,
            retry=retry,
            wall_clock=wall_clock,
        )
        self.signing_key = signing_key

    # --- competitions ----------------------------------------------------------------------

    async def create_competition(
        self, competition: CompetitionIn | dict[str, Any]
    ) -> CompetitionOut:
        body = as_model(CompetitionIn, competition)
        return await self._post("/so/v1/competitions/", CompetitionOut, body)

    def iter_competitions(self, *, limit: int = 100) -> AsyncIterator[CompetitionOut]:
        return fm_pages(self.api, "/so/v1/competitions/", CompetitionOut, limit=limit)

    async def get_competition(self, competition_id: str) -> CompetitionOut:
        return await self._get(f"/so/v1/competitions/{seg(competition_id)}/", CompetitionOut)

    # --- obligations -----------------------------------------------------------------------

    async def award_obligation(self, obligation: ObligationIn | dict[str, Any]) -> ObligationOut:
        body = as_model(ObligationIn, obligation)
        return await self._post("/so/v1/obligations/", ObligationOut, body)

    # --- dispatch instructions -------------------------------------------------------------

    def _signature(self, fields: dict[str, str]) -> dict[str, str | None]:
        if self.signing_key is None:
            return {"signature": None, "signature_algorithm": None}
        return {
            "signature": signing.so_sign(fields, self.signing_key),
            "signature_algorithm": signing.SO_SIGNATURE_ALGORITHM,
        }

    async def issue_dispatch(
        self,
        obligation_id: str,
        *,
        start: datetime | str,
        end: datetime | str,
        capacity: Decimal | str | float,
        need_direction: str,
        so_reference: str | None = None,
    ) -> InstructionOut:
        """``POST /so/v1/dispatches/``, signed when the client has a key. Safe to repeat: the
        API answers a repeat of the same ``so_reference`` and fields with the first
        instruction (``so_reference`` defaults to a new UUID)."""
        fields = {
            "so_reference": so_reference or f"so-{uuid.uuid4()}",
            "obligation_id": obligation_id,
            "start": wire_text(start),
            "end": wire_text(end),
            "capacity": wire_text(capacity),
            "need_direction": need_direction,
            "instruction_type": "dispatch",
        }
        body = DispatchIn(**fields, **self._signature(fields))
        return await self._post("/so/v1/dispatches/", InstructionOut, body, idempotent=True)

    async def stop_dispatch(
        self,
        instruction: InstructionOut | str,
        *,
        start: datetime | str | None = None,
        so_reference: str | None = None,
    ) -> InstructionOut:
        """Stop an instruction early (``POST /so/v1/dispatches/{id}/stop/``): the new ``stop``
        instruction. ``start`` is when the stop takes effect (default: now, or the
        instruction's start if later); ``so_reference`` defaults to the original's +
        ``":stop"``. Signed stops sign the original's fields with these two and
        ``instruction_type: "stop"``."""
        if self.signing_key is None:
            instruction_id = instruction if isinstance(instruction, str) else instruction.id
            body = StopIn(so_reference=so_reference, start=wire_text(start))
        else:
            original = (
                await self.get_dispatch(instruction)
                if isinstance(instruction, str)
                else instruction
            )
            instruction_id = original.id
            if start is None:
                now = self.wall_clock.now().replace(microsecond=0)
                start = max(now, parse_instant(original.start))
            fields = {name: getattr(original, name) for name in signing.SO_SIGNED_FIELDS} | {
                "so_reference": so_reference or f"{original.so_reference}:stop",
                "start": wire_text(start),
                "instruction_type": "stop",
            }
            body = StopIn(
                so_reference=fields["so_reference"],
                start=fields["start"],
                **self._signature(fields),
            )
        path = f"/so/v1/dispatches/{seg(instruction_id)}/stop/"
        return await self._post(path, InstructionOut, body, idempotent=True)

    async def get_dispatch(self, instruction_id: str) -> SoInstructionOut:
        """The instruction as the provider answered it, with its webhook deliveries."""
        return await self._get(f"/so/v1/dispatches/{seg(instruction_id)}/", SoInstructionOut)

    # --- availability ----------------------------------------------------------------------

    def iter_availability_variations(
        self, *, obligation_id: str | None = None, limit: int = 100
    ) -> AsyncIterator[VariationOut]:
        return fm_pages(
            self.api,
            "/so/v1/availability-variations/",
            VariationOut,
            limit=limit,
            params={"obligation_id": obligation_id},
        )

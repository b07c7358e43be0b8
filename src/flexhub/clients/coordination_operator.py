"""The Energy Coordination API's operator endpoints (``/operator/...``: outside the official
partner document, in flexhub's own OpenAPI), for a system operator or an admin: neighbourhoods,
day-ahead price-curve runs, power-limit (LPC) requests. Same credentials and token endpoint as
a partner; answers are the JSON the platform documents (plain dicts where their schemas are
the platform's, not the wire's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flexhub.clients.coordination import CoordinationClient, _p
from flexhub.clients.http import typed
from flexhub.wire.coordination.neighbourhoods import PutNeighbourhoodsResponse


class CoordinationOperatorClient(CoordinationClient):
    async def put_neighbourhoods(self, collection: dict[str, Any]) -> PutNeighbourhoodsResponse:
        """``PUT /operator/neighbourhoods``: make the neighbourhoods those of a GeoJSON
        FeatureCollection (idempotent)."""
        answer = await self.api.request(
            "PUT", "/operator/neighbourhoods", json_body=collection, idempotent=True
        )
        return typed(PutNeighbourhoodsResponse, answer)

    async def list_neighbourhoods(self, *, page_size: int = 100) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = await self.api.request(
                "GET", "/operator/neighbourhoods", params={"page": page, "pageSize": page_size}
            )
            items = answer.get("neighbourhoods") or []
            out.extend(items)
            if len(items) < page_size:
                return out
            page += 1

    async def run_price_curves(
        self, day: date, *, neighbourhood_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """``POST /operator/price-curve-runs``: send the price curves of a local day (a day run
        before sends nothing again, so a repeat is safe)."""
        body: dict[str, Any] = {"date": day.isoformat()}
        if neighbourhood_ids is not None:
            body["neighbourhoodIds"] = list(neighbourhood_ids)
        return await self.api.request(
            "POST", "/operator/price-curve-runs", json_body=body, idempotent=True
        )

    async def list_price_curve_runs(self, day: date | None = None) -> list[dict[str, Any]]:
        params = {"date": day.isoformat()} if day else None
        answer = await self.api.request("GET", "/operator/price-curve-runs", params=params)
        return list(answer.get("runs") or [])

    async def request_lpc(self, request: dict[str, Any]) -> dict[str, Any]:
        """``POST /operator/lpc-requests``: a power limit (``payloadType`` LocationLPC,
        ResourceLPC or LPCReservation, ``points``, ``targets`` or a ``neighbourhoodId``); each
        target's partner gets its event."""
        return await self.api.request("POST", "/operator/lpc-requests", json_body=request)

    async def get_lpc_request(self, request_id: str) -> dict[str, Any]:
        """One request with each target's acknowledgement state."""
        return await self.api.request("GET", f"/operator/lpc-requests/{_p(request_id)}")

    async def list_lpc_requests(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest requests (the operator's and those the forecast raised), with their
        targets' states."""
        answer = await self.api.request("GET", "/operator/lpc-requests", params={"limit": limit})
        return list(answer.get("requests") or [])

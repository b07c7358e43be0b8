"""Energy Coordination routes: sandbox simulation of events and partner data (400s: JSON
string). Each event simulation answers ``SimulateEventResponse``.

The paths were camelCase before 2025-01 (``/simulation/events/priceCurve``,
``/simulation/events/userEligibility``) and the guides still write them so; those spellings are
served too, outside the published schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.coordination.services import simulated_partner, simulation
from flexhub.platform.deps import get_session, provider
from flexhub.wire.coordination.simulation import (
    SimulateEventResponse,
    SimulateLocationLPCEventRequest,
    SimulatePriceCurveEventRequest,
    SimulateResourceLPCEventRequest,
)

router = APIRouter(tags=["Simulation"])


@router.post("/simulation/events/pricecurve", response_model=SimulateEventResponse)
@router.post(
    "/simulation/events/priceCurve", response_model=SimulateEventResponse, include_in_schema=False
)
async def simulate_price_curve(
    body: SimulatePriceCurveEventRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> SimulateEventResponse:
    event = await simulation.simulate_price_curve(session, principal.tenant_id, body)
    return SimulateEventResponse(simulatedEvent=event)


@router.post("/simulation/events/usereligibility", response_model=SimulateEventResponse)
@router.post(
    "/simulation/events/userEligibility",
    response_model=SimulateEventResponse,
    include_in_schema=False,
)
async def simulate_user_eligibility(
    principal: Principal = Depends(provider), session: AsyncSession = Depends(get_session)
) -> SimulateEventResponse:
    event = await simulation.simulate_user_eligibility(session, principal.tenant_id)
    return SimulateEventResponse(simulatedEvent=event)


@router.post("/simulation/events/lpc/locations", response_model=SimulateEventResponse)
async def simulate_location_lpc(
    body: SimulateLocationLPCEventRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> SimulateEventResponse:
    event = await simulation.simulate_location_lpc(session, principal.tenant_id, body)
    return SimulateEventResponse(simulatedEvent=event)


@router.post("/simulation/events/lpc/resources", response_model=SimulateEventResponse)
async def simulate_resource_lpc(
    body: SimulateResourceLPCEventRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> SimulateEventResponse:
    event = await simulation.simulate_resource_lpc(session, principal.tenant_id, body)
    return SimulateEventResponse(simulatedEvent=event)


# The document gives the 201 no body.
@router.post("/simulation/partner", status_code=201, response_class=Response)
async def simulate_partner(
    principal: Principal = Depends(provider), session: AsyncSession = Depends(get_session)
) -> Response:
    await simulated_partner.create_simulated_partner(session, principal.tenant_id)
    return Response(status_code=201)


@router.delete("/simulation/partner", status_code=200, response_class=Response)
async def delete_simulated_partner(
    principal: Principal = Depends(provider), session: AsyncSession = Depends(get_session)
) -> Response:
    await simulated_partner.delete_simulated_partner(session, principal.tenant_id)
    return Response(status_code=200)

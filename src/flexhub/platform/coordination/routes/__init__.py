"""All Energy Coordination routes on one router, flat (``include_flat``; the app registers them
under /energy-coordination/v1).

Order matters where paths overlap: ``/users/eligible`` and ``/users/batch`` and
``/users/locations/batch`` must be registered before ``/users/{userId}``; ``/webhooks/logs``
before ``/webhooks/{webhookId}``. ``/events``, the most read, comes first: a request is
matched against the routes in order (no path of the others starts with ``/events``).
"""

from fastapi import APIRouter

from flexhub.platform.coordination.routes import (
    events,
    locations,
    operator_forecast,
    operator_lpc,
    operator_neighbourhoods,
    operator_price_curves,
    program,
    reports,
    resources,
    simulation,
    users,
    webhooks,
)
from flexhub.platform.routing import include_flat

router = APIRouter()
for module in (events, program, locations, users, resources, reports, webhooks, simulation):
    include_flat(router, module.router)
# operator endpoints, outside the official partner document (tag "operator")
for module in (operator_neighbourhoods, operator_forecast, operator_price_curves, operator_lpc):
    include_flat(router, module.router)

"""All Energy Coordination routers under one router (mounted at /energy-coordination/v1).

Order matters where paths overlap: ``/users/eligible`` and ``/users/batch`` and
``/users/locations/batch`` must be registered before ``/users/{userId}``; ``/webhooks/logs``
before ``/webhooks/{webhookId}``.
"""

from fastapi import APIRouter

from flexhub.platform.coordination.routes import (
    events,
    locations,
    program,
    reports,
    resources,
    simulation,
    users,
    webhooks,
)

router = APIRouter()
for module in (program, locations, users, resources, events, reports, webhooks, simulation):
    router.include_router(module.router)

"""All Flex Market routes on one router, flat (``include_flat``; at the root: paths carry their
version)."""

from fastapi import APIRouter

from flexhub.platform.flexmarket.routes import (
    assets,
    authtoken,
    competitions,
    dispatches,
    obligations,
    system_operator,
    webhooks,
)
from flexhub.platform.routing import include_flat

router = APIRouter()
for module in (authtoken, competitions, obligations, assets, dispatches, system_operator, webhooks):
    include_flat(router, module.router)

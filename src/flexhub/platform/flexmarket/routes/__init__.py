"""All Flex Market routers under one router (mounted at the root: paths carry their version)."""

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

router = APIRouter()
for module in (authtoken, competitions, obligations, assets, dispatches, system_operator, webhooks):
    router.include_router(module.router)

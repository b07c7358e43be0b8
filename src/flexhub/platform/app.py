"""FastAPI app factory: mounts the APIs, token endpoint, /metrics and /healthz, builds the
delivery channels and runs the delivery worker in-process unless told not to, and the Flex
Market sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import IntegrityError

from flexhub import __version__
from flexhub.config import Settings, load_settings
from flexhub.platform import errors, openapi
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.channel import CoordinationChannel
from flexhub.platform.coordination.routes import router as coordination_router
from flexhub.platform.dashboard import routes as dashboard
from flexhub.platform.delivery.channel import Channel
from flexhub.platform.delivery.worker import Worker
from flexhub.platform.engines.neighbourhoods import ensure_sandbox_neighbourhoods
from flexhub.platform.flexmarket.channel import FlexMarketChannel
from flexhub.platform.flexmarket.routes import router as flexmarket_router
from flexhub.platform.flexmarket.services.sweeper import run_sweeper
from flexhub.platform.guards import reject_unstorable_text
from flexhub.platform.keys import KeyStore
from flexhub.platform.token_routes import router as token_router
from flexhub.store.database import Database

log = logging.getLogger("flexhub.platform")


async def open_context(settings: Settings) -> PlatformContext:
    """Database (schema upgraded) and keys (created on first start)."""
    db = Database(settings.database_url)
    await db.upgrade()
    async with db.session() as session:
        try:
            await ensure_sandbox_neighbourhoods(session)
            await session.commit()
        except IntegrityError:  # another process seeded them at the same moment
            await session.rollback()
    keys = KeyStore(settings.data_dir / "keys").load()
    return PlatformContext(settings=settings, db=db, keys=keys)


def platform_channels(ctx: PlatformContext) -> list[Channel]:
    """The delivery channels of both APIs, for the in-process worker and ``flexhub worker``."""
    settings = ctx.settings
    return [
        CoordinationChannel(settings.ec_retry),
        FlexMarketChannel(ctx.keys, settings.base_url, settings.fm_retry),
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await open_context(settings)
        app.state.ctx = ctx
        worker_task = None
        worker = None
        if settings.run_worker:
            worker = Worker(ctx, platform_channels(ctx))
            worker_task = asyncio.create_task(worker.run(), name="delivery-worker")
        sweeper_stop = asyncio.Event()
        sweeper = asyncio.create_task(run_sweeper(ctx, sweeper_stop), name="dispatch-sweeper")
        try:
            yield
        finally:
            sweeper_stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(sweeper, timeout=10)
            if worker is not None:
                worker.stop()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(worker_task, timeout=10)
            await ctx.db.dispose()

    app = FastAPI(
        title="flexhub platform",
        version=__version__,
        description="Energy Coordination API v1 and Flex Market API v1.",
        lifespan=lifespan,
        dependencies=[Depends(reject_unstorable_text)],
    )
    errors.install(app)
    openapi.install(app)
    app.include_router(token_router)
    app.include_router(coordination_router, prefix=errors.EC_PREFIX)
    app.include_router(flexmarket_router)
    dashboard.install(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return app

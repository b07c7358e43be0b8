"""FastAPI app factory: mounts the APIs, token endpoint, /metrics, /healthz and the offline
docs, wraps them in the request middleware (metrics, public origin, body limit, trusted
proxies), builds the delivery channels and runs the delivery worker in-process unless told not
to, the Flex Market sweeper, the delivery-log retention sweeper and the eligibility cycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import IntegrityError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from flexhub import __version__, heap
from flexhub.config import Settings, load_settings
from flexhub.platform import docs, errors, metrics, openapi, secretbox
from flexhub.platform.context import PlatformContext, webhook_key_store
from flexhub.platform.coordination.channel import CoordinationChannel
from flexhub.platform.coordination.routes import router as coordination_router
from flexhub.platform.coordination.services.eligibility_cycle import run_cycles
from flexhub.platform.coordination.services.neighbourhoods import ensure_sandbox
from flexhub.platform.coordination.services.price_curve_schedule import run_schedule
from flexhub.platform.dashboard import routes as dashboard
from flexhub.platform.delivery.channel import Channel
from flexhub.platform.delivery.retention import run_retention
from flexhub.platform.delivery.worker import Worker
from flexhub.platform.flexmarket.channel import FlexMarketChannel
from flexhub.platform.flexmarket.routes import router as flexmarket_router
from flexhub.platform.flexmarket.services.sweeper import run_sweeper
from flexhub.platform.guards import reject_unstorable_text
from flexhub.platform.middleware import BodyLimit, PublicOrigin, RequestMetrics, body_limit_for
from flexhub.platform.routing import include_flat, index_routes
from flexhub.platform.token_routes import router as token_router
from flexhub.store.database import Database

log = logging.getLogger("flexhub.platform")


async def open_context(settings: Settings) -> PlatformContext:
    """Database (schema upgraded) and keys (created on first start)."""
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        ping_idle_seconds=settings.db_ping_idle_seconds,
    )
    await db.upgrade()
    if settings.sandbox_neighbourhoods:
        async with db.session() as session:
            try:
                await ensure_sandbox(session)
            except IntegrityError:  # another process seeded them at the same moment
                await session.rollback()
    ctx = PlatformContext(settings=settings, db=db, keys=webhook_key_store(settings).load())
    async with db.session() as session:  # secrets written before encryption existed
        if await secretbox.seal(session, ctx.secrets, everything=False):
            await session.commit()
    return ctx


def platform_channels(ctx: PlatformContext) -> list[Channel]:
    """The delivery channels of both APIs, for the in-process worker and ``flexhub worker``."""
    settings = ctx.settings
    disable_after = timedelta(days=settings.webhook_disable_after_days)
    return [
        CoordinationChannel(settings.ec_retry, ctx.secrets, disable_after),
        FlexMarketChannel(ctx.keys, settings.base_url, settings.fm_retry, disable_after),
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
        retention = asyncio.create_task(run_retention(ctx, sweeper_stop), name="retention")
        curves = asyncio.create_task(run_schedule(ctx, sweeper_stop), name="price-curves")
        eligibility = asyncio.create_task(
            run_cycles(ctx.db, settings.eligibility_cycle_seconds, sweeper_stop),
            name="eligibility-cycle",
        )
        if settings.settle_heap:
            heap.settle()
        try:
            yield
        finally:
            sweeper_stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(
                    asyncio.gather(sweeper, retention, curves, eligibility), timeout=10
                )
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
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    openapi.install(app)
    docs.install(app)
    _install_middleware(app, settings)
    include_flat(app.router, token_router)
    include_flat(app.router, coordination_router, prefix=errors.EC_PREFIX)
    include_flat(app.router, flexmarket_router)
    dashboard.install(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", include_in_schema=False)
    async def get_metrics() -> PlainTextResponse:
        return await metrics.metrics_response(app.state.ctx.db)

    index_routes(app.router)
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost last: metrics see every answer, the public origin replaces the Host header
    before anything builds a URL, the body limit counts what the routes read."""
    app.add_middleware(
        BodyLimit, limit_for=body_limit_for(settings.max_body_bytes, settings.max_batch_body_bytes)
    )
    app.add_middleware(PublicOrigin, public_url=settings.base_url)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:  # X-Forwarded-For believed from these peers only
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.add_middleware(RequestMetrics)

"""A running agent: its store, fleet, clients, receiver and loops, built from an
:class:`AgentConfig`.

``start()`` opens the store, starts the drivers, opens the clients, serves the receiver,
fetches the Flex Market webhook keys, registers (or updates) the agent's webhook on both APIs,
reconciles once and starts the loops (processor, scheduler, report sender, reconciler).
``stop()`` ends them; whatever was stored and not yet processed is processed by the next
start."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from flexhub import heap
from flexhub.agent.config import AgentConfig
from flexhub.agent.context import Context
from flexhub.agent.dashboard import Dashboard
from flexhub.agent.dispatch import Dispatcher
from flexhub.agent.drivers import Driver
from flexhub.agent.events import EventHandler
from flexhub.agent.fleet import Fleet
from flexhub.agent.inbox import AgentStore
from flexhub.agent.loops import Loop
from flexhub.agent.observe import Metrics
from flexhub.agent.policy import Policy, RuleBasedPolicy
from flexhub.agent.processor import Processor
from flexhub.agent.receiver import Receiver
from flexhub.agent.reconcile import Reconciler
from flexhub.agent.reporting import ReportSender
from flexhub.agent.scheduler import Scheduler
from flexhub.agent.verify import SoSignatures, WebhookKeys, key_from_public_key, keys_from_jwks
from flexhub.clients import ApiError, CoordinationClient, FlexMarketProviderClient
from flexhub.clock import Clock, SystemClock

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0  # at shutdown, for the messages being processed to finish
NOTIFY_PATH, FLEX_PATH = "/notify", "/flex/webhook"


def make_policy(name: str) -> Policy:
    if name == "rules":
        return RuleBasedPolicy()
    from flexhub.agent.optimize import Optimizer

    return Optimizer()


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        drivers: dict[str, Driver] | None = None,
        process: bool = True,
    ) -> None:
        """``process=False`` stores what arrives without acting on it (a test stands for a
        crash between the two)."""
        self.config = config
        self.clock = clock or SystemClock()
        self.process = process
        self.metrics = Metrics()
        self.store = AgentStore(config.inbox_url)
        self.store.on_jobs = lambda: self.wake("scheduler")
        self.fleet = Fleet(config.specs(), self.clock, config.drivers, drivers)
        self.ctx = Context(
            self.store,
            self.fleet,
            self.metrics,
            self.clock,
            make_policy(config.policy),
            config.zone,
        )
        self.dispatcher = Dispatcher(self.ctx)
        self.events = EventHandler(self.ctx)
        self.loops: dict[str, Loop] = {}
        self.processor: Processor | None = None
        self._runner: web.AppRunner | None = None
        self.so: SoSignatures | None = None
        self.webhook_keys: WebhookKeys | None = None
        self.reconciler: Reconciler | None = None

    # --- wiring -------------------------------------------------------------------------------

    def _clients(self) -> None:
        c = self.config
        if c.coordination is not None:
            self.ctx.ec = CoordinationClient(
                c.coordination.base_url,
                client_id=c.coordination.client_id,
                client_secret=c.coordination.client_secret.get_secret_value(),
                token_url=c.coordination.token_url,
            )
        if c.flex_market is not None:
            fm = c.flex_market
            self.ctx.fm = FlexMarketProviderClient(
                fm.base_url,
                client_id=fm.client_id,
                api_key=fm.api_key.get_secret_value(),
                token_url=fm.token_url,
            )
            self.so = SoSignatures(fm.so_key_pems(), fm.require_so_signature)
            self.webhook_keys = WebhookKeys(self._fetch_keys, fm.expected_issuer)

    async def _fetch_keys(self) -> dict[str, Any]:
        assert self.ctx.fm is not None
        try:
            return keys_from_jwks((await self.ctx.fm.get_jwks()).model_dump())
        except ApiError as exc:
            if exc.status != 404:
                raise
            return key_from_public_key((await self.ctx.fm.get_public_key()).model_dump())

    def wake(self, name: str) -> None:
        loop = self.loops.get(name)
        if loop is not None:
            loop.wake()
        if name == "processor" and self.processor is not None:
            self.processor.notify()  # a round under way takes the new message in

    async def _refused(self, data: dict[str, Any], reason: str) -> None:
        await self.store.add_jobs(
            [(f"reject:{data['id']}", "reject", 0.0, {"id": data["id"], "reason": reason})]
        )
        self.wake("scheduler")

    @property
    def receiver_url(self) -> str:
        return self.config.receiver.url

    # --- life ---------------------------------------------------------------------------------

    async def start(self) -> Agent:
        c = self.config
        await self.store.open()
        await self.fleet.start()
        self._clients()
        receiver = Receiver(
            self.store,
            self.metrics,
            webhook_secret=c.coordination.webhook_secret.get_secret_value()
            if c.coordination
            else None,
            webhook_keys=self.webhook_keys,
            so_signatures=self.so,
            on_stored=lambda: self.wake("processor"),
            on_refused_instruction=self._refused,
        )
        app = receiver.app()
        Dashboard(self.ctx, self.metrics).install(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, c.receiver.host, c.receiver.port).start()
        log.info("receiver listening on %s:%s", c.receiver.host, c.receiver.port)
        if self.webhook_keys is not None:
            await self.webhook_keys.refresh()
        await self.register()
        reconciler = self.reconciler = Reconciler(
            self.ctx, self.so, lambda: self.wake("processor"), self.dispatcher.watch
        )
        await reconciler.step()
        self.loops["scheduler"] = Loop(
            "scheduler",
            Scheduler(self.ctx, self.dispatcher, self.events, lambda: self.wake("reports")).step,
            1.0,
        ).start()
        if self.process:
            self.processor = Processor(self.ctx, self.dispatcher, self.events)
            self.loops["processor"] = Loop("processor", self.processor.step, 1.0).start()
        self.loops["reports"] = Loop("reports", ReportSender(self.ctx).step, 5.0).start()
        self.loops["reconcile"] = Loop(
            "reconcile", reconciler.step, c.reconcile_seconds, wait_first=True
        ).start()
        return self

    async def register(self) -> None:
        """The agent's own webhook subscriptions, created or brought up to date."""
        c = self.config
        if self.ctx.ec is not None and c.coordination is not None:
            hook = await self.ctx.ec.ensure_webhook(
                self.receiver_url + NOTIFY_PATH,
                c.coordination.notification_types,
                secret=c.coordination.webhook_secret.get_secret_value(),
                name=c.coordination.webhook_name,
            )
            log.info("Energy Coordination webhook %s", hook.webhookId)
        if self.ctx.fm is not None and c.flex_market is not None:
            sub = await self.ctx.fm.ensure_subscription(
                self.receiver_url + FLEX_PATH, c.flex_market.events
            )
            log.info("Flex Market subscription %s", sub.id)

    async def stop(self) -> None:
        if self.processor is not None:  # messages under way finish (up to the grace), no new
            self.processor.stopping = True  # ones start: a SIGTERM does not act on one twice
            await self.loops["processor"].stop(grace=STOP_GRACE_SECONDS)
        for loop in self.loops.values():
            await loop.stop()
        self.loops.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for client in (self.ctx.ec, self.ctx.fm):
            if client is not None:
                await client.close()
        self.ctx.ec = self.ctx.fm = None
        await self.fleet.close()
        await self.store.close()

    async def __aenter__(self) -> Agent:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


async def run_forever(config: AgentConfig) -> None:
    """``flexhub agent run``: until interrupted."""
    agent = await Agent(config).start()
    heap.settle()  # start-up's objects out of the collector's way (flexhub/heap.py)
    try:
        await asyncio.Event().wait()
    finally:
        await agent.stop()

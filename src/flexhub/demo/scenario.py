"""The demo's day, step by step (``flexhub demo`` and the tests run this same code):

1. the platform starts (SQLite in the run's directory, or a fresh PostgreSQL database) with its
   delivery worker; the partners are bootstrapped: a system operator, a provider (on both
   APIs) and an admin who operates the grid;
2. the admin loads the neighbourhoods; the provider registers its homes (users, locations,
   resources, enrollment) and its aggregated batteries; the SO robot awards it an obligation;
3. the provider's agent starts, with nothing but its configuration, on the day's clock, and
   registers its webhooks;
4. the admin runs tomorrow's price curves and sends an LPC to one home; the day's clock is
   held until the agent has scheduled them;
5. the day plays: the SO robot (``flexhub.sim.operator``) issues its signed instructions an
   hour ahead of each and stops one; the agent's reports go in;
6. ``figures.collect`` reads everything back from the APIs and the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flexhub.agent.runtime import Agent
from flexhub.clients import (
    CoordinationClient,
    CoordinationOperatorClient,
    FlexMarketOperatorClient,
    FlexMarketProviderClient,
)
from flexhub.clock import ScaledClock
from flexhub.demo import baseline, grid_operator, provider, registry
from flexhub.demo.day import Day
from flexhub.demo.homes import ZONE, Fleet, make_fleet
from flexhub.demo.hub import Credentials, Hub
from flexhub.signing import generate_private_key, public_key_pem
from flexhub.sim.operator import OperatorRecord, OperatorRobot, PlannedInstruction
from flexhub.wire.coordination.events import NOTIFICATION_TYPES

EC = "/energy-coordination/v1"
LEAD = timedelta(hours=1)  # of the day's clock before its midnight, where it is held
AFTER = timedelta(minutes=30)  # of the day's clock after it: the reports go in


def dispatch_plan(mw: Decimal) -> dict[str, PlannedInstruction]:
    """The SO's day (hours from local midnight; each issued two hours before it starts):

    - ``morning``: 30 % of the contracted MW, 07:00-08:00, delivered in full;
    - ``oversized``: all of it for four hours, 12:00-16:00: more than the batteries hold, so
      the agent must reject it;
    - ``evening``: 50 %, 17:00-19:00, stopped by the SO at 18:00.
    """

    def share(x: str) -> Decimal:
        return max((mw * Decimal(x)).quantize(Decimal("0.001")), Decimal("0.001"))

    h = timedelta(hours=1)
    ahead = 2 * h
    return {
        "morning": PlannedInstruction(5 * h, share("0.3"), start_in=ahead),
        "oversized": PlannedInstruction(10 * h, mw, start_in=ahead, duration=4 * h),
        "evening": PlannedInstruction(
            15 * h, share("0.5"), start_in=ahead, duration=2 * h, stop_after=h
        ),
    }


class Stage:
    """What the scenario tells whoever shows its progress (the CLI: Rich; tests: nothing)."""

    def step(self, text: str) -> None: ...

    def done(self, text: str) -> None: ...

    def day(self, clock: ScaledClock, day: Day) -> None: ...


@dataclass
class Played:
    """Everything the day left behind, for ``figures`` to read back."""

    workdir: Path
    hub: Hub
    fleet: Fleet
    day: Day
    clock: ScaledClock
    agent: Agent
    so: FlexMarketOperatorClient
    fsp: FlexMarketProviderClient
    ec: CoordinationClient
    operator: CoordinationOperatorClient
    record: OperatorRecord
    plan: dict[str, PlannedInstruction]
    partners: dict[str, Credentials]
    lpc: grid_operator.PowerLimit
    price_run: dict[str, Any]
    baseline_kwh: dict[str, list[float]]
    seed: int = 1
    timings: dict[str, float] = field(default_factory=dict)
    api_calls: int = 0


async def _wait(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise RuntimeError(f"the demo waited {timeout:.0f} s for {what} in vain")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def play(
    size: int = 300,
    seed: int = 1,
    *,
    day_seconds: float = 45.0,
    workdir: Path | None = None,
    database_url: str | None = None,
    stage: Stage | None = None,
) -> AsyncIterator[Played]:
    """Play the day; yields what it left (the platform and agent still running, so that the
    figures, the report and the dashboards can read them), then stops everything."""
    stage = stage or Stage()
    started = time.perf_counter()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="flexhub-demo-"))
    fleet = make_fleet(size, seed)
    day = Day.tomorrow()
    timings: dict[str, float] = {}

    stage.step("starting the platform and its delivery worker")
    async with contextlib.AsyncExitStack() as stack:
        hub = await stack.enter_async_context(Hub(workdir, database_url))
        partners = {
            "so": await hub.add_partner("Oslo DSO (system operator)", "system_operator"),
            "provider": await hub.add_partner("Fjord Flex (provider)", "provider"),
            "admin": await hub.add_partner("flexhub operator (admin)", "admin"),
        }
        stage.done(f"platform on {hub.base_url} ({hub.database}), 3 partners bootstrapped")
        timings["platform"] = time.perf_counter() - started

        base = hub.base_url
        so_key = generate_private_key()
        p, a, s = partners["provider"], partners["admin"], partners["so"]
        ec = await stack.enter_async_context(
            CoordinationClient(base + EC, client_id=p.client_id, client_secret=p.client_secret)
        )
        operator = await stack.enter_async_context(
            CoordinationOperatorClient(
                base + EC, client_id=a.client_id, client_secret=a.client_secret
            )
        )
        fsp = await stack.enter_async_context(
            FlexMarketProviderClient(base, client_id=p.client_id, api_key=p.client_secret)
        )
        so = await stack.enter_async_context(
            FlexMarketOperatorClient(
                base, client_id=s.client_id, api_key=s.client_secret, signing_key=so_key
            )
        )

        stage.step("loading the neighbourhoods and registering the homes")
        loaded = await grid_operator.load_neighbourhoods(operator, fleet)
        calls = await registry.register_homes(ec, fleet)
        flex_assets = await registry.register_flex_assets(fsp, fleet)
        clock = day.clock(day_seconds, LEAD)
        robot = OperatorRobot(so, clock, currency="NOK")
        mw = sum(registry.battery_mw(fleet, area) for area in fleet.areas)
        competition = await robot.open_competition(name="Oslo evening peak, winter")
        obligation = await robot.award(competition, p.partner_id, list(flex_assets.values()), mw)
        resources = sum(1 for _, asset in fleet.assets() if asset.resource_type)
        stage.done(
            f"{len(loaded.added)} neighbourhoods loaded; {size} homes, {resources} resources "
            f"registered and enrolled ({calls} API calls); obligation {obligation.id} "
            f"on {mw} MW of home batteries"
        )
        timings["registration"] = time.perf_counter() - started

        stage.step("starting the provider's agent")
        config = provider.write_config(
            provider.agent_config(
                base,
                p,
                secrets.token_urlsafe(24),
                public_key_pem(so_key),
                fleet,
                flex_assets,
                workdir / "agent-data",
            ),
            workdir / "agent.toml",
        )
        agent = await provider.start_agent(config, clock)
        stack.push_async_callback(agent.stop)
        stage.done(
            f"agent on {config.receiver.url} with {len(config.assets)} assets; day clock "
            f"x{clock.speed:.0f}"
        )

        stage.step("tomorrow's signals: dispatch instructions, price curves, a power limit")
        price_run = await grid_operator.run_price_curves(operator, day)
        lpc = await grid_operator.send_lpc(operator, p.partner_id, fleet, day)
        pool = ProcessPoolExecutor(max_workers=1)
        stack.callback(pool.shutdown)
        own = asyncio.get_running_loop().run_in_executor(
            pool,
            baseline.own_control_kwh,
            list(agent.fleet.specs.values()),
            agent.fleet.drivers["sim"].started_at,
            list(day.hours),
            provider.TICK_SECONDS,
            ZONE,
        )
        # price curves and LPCs (the run's too); not a UserEligibility event that the
        # platform's 10-minute cycle may have sent meanwhile: the agent does not subscribe
        wanted = set(config.coordination.notification_types)
        events = {
            e.id
            async for e in ec.iter_events()
            if NOTIFICATION_TYPES[e.payload.payloadType] in wanted
        }

        async def arrived() -> bool:
            messages = await agent.store.messages()
            done = {m["subject"] for m in messages if m["processed_at"]}
            return events <= done and all(m["processed_at"] for m in messages)

        await _wait(arrived, "the agent to act on the signals")
        clock.release()
        stage.done(
            f"{price_run['events']} price curves to {price_run['targets']} resources and an "
            f"LPC on {lpc.location_id}: at the agent, scheduled"
        )
        timings["signals"] = time.perf_counter() - started

        stage.step("playing the day")
        plan = dispatch_plan(mw)
        so_day = asyncio.create_task(
            robot.run(obligation, competition, list(plan.values()), origin=day.start)
        )
        while clock.now() < day.end + AFTER:
            stage.day(clock, day)
            if so_day.done() and so_day.exception() is not None:
                raise so_day.exception()  # type: ignore[misc]
            await asyncio.sleep(0.2)
        stage.day(clock, day)
        record = await robot.read_back(await so_day, wait_seconds=10.0)

        async def reported() -> bool:
            reports = await agent.store.reports()
            kinds = {r["key"].split(":")[0] for r in reports}
            pending = [r for r in reports if r["sent_at"] is None and r["failed"] is None]
            return not pending and {"EnergyUsage", "LocationEnergyUsage"} <= kinds

        await _wait(reported, "the agent's reports to be accepted")
        stage.done("the day is over and every report is in")
        timings["day"] = time.perf_counter() - started
        baseline_kwh = await own

        yield Played(
            workdir=workdir,
            hub=hub,
            fleet=fleet,
            day=day,
            clock=clock,
            agent=agent,
            so=so,
            fsp=fsp,
            ec=ec,
            operator=operator,
            record=record,
            plan=plan,
            partners=partners,
            lpc=lpc,
            price_run=price_run,
            baseline_kwh=baseline_kwh,
            seed=seed,
            timings=timings,
            api_calls=calls,
        )

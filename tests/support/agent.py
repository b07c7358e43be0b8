"""Helpers for the agent tests: an agent configured against the loopback platform with nothing
but its config (the partner's credentials, a receiver on a free loopback port, an SQLite inbox
in the test's directory), its simulated driver at hand, and waiting for what it does."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flexhub.agent.config import AgentConfig
from flexhub.agent.runtime import Agent
from flexhub.clock import Clock
from flexhub.signing import so_sign
from flexhub.sim.driver import SimulatedDriver
from flexhub.store.coordination import EcReport
from flexhub.timeseries import floor_hour
from support.fm import now, z
from support.platform import EC, Partner, PlatformThread, free_port

WEBHOOK_SECRET = "agent-test-webhook-secret"


def agent_config(
    platform: PlatformThread,
    partner: Partner,
    data_dir: Path,
    *,
    assets: list[dict[str, Any]] | None = None,
    so_public_keys: list[str] | None = None,
    require_so_signature: bool = False,
    coordination: bool = True,
    flex_market: bool = True,
    port: int | None = None,
    reconcile_seconds: float = 3600.0,
    policy: str = "rules",
    database_url: str | None = None,
    tick_seconds: float = 1.0,
) -> AgentConfig:
    base = platform.base_url
    raw: dict[str, Any] = {
        "data_dir": str(data_dir),
        "database_url": database_url,
        "policy": policy,
        "reconcile_seconds": reconcile_seconds,
        "receiver": {"host": "127.0.0.1", "port": port or free_port()},
        "assets": assets or [],
        "drivers": {"sim": {"tick_seconds": tick_seconds}},
    }
    raw["receiver"]["public_url"] = f"http://127.0.0.1:{raw['receiver']['port']}"
    if coordination:
        raw["coordination"] = {
            "base_url": base + EC,
            "token_url": base + "/connect/token",
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
            "webhook_secret": WEBHOOK_SECRET,
        }
    if flex_market:
        raw["flex_market"] = {
            "base_url": base,
            "client_id": partner.client_id,
            "api_key": partner.client_secret,
            "so_public_keys": so_public_keys or [],
            "require_so_signature": require_so_signature,
        }
    return AgentConfig.model_validate(raw)


async def start_agent(
    config: AgentConfig, *, clock: Clock | None = None, process: bool = True
) -> tuple[Agent, SimulatedDriver]:
    """The agent, started, with the simulated driver it runs its assets with."""
    agent = Agent(config, clock=clock, process=process)
    await agent.start()
    driver = agent.fleet.drivers.get("sim")
    return agent, driver  # type: ignore[return-value]


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout: float = 30.0, every: float = 0.1
) -> Any:
    """Wait until ``check()`` returns something truthy (a deadline on waiting, not a timed
    assertion: the test fails only if it never happens)."""
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {check}")
        await asyncio.sleep(every)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text page (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def power_commands(driver: SimulatedDriver) -> list[tuple[str, Any]]:
    return [(c.asset_id, c.value) for c in driver.commands if c.kind == "power"]


async def flex_market(make_partner, exports_kw: list[float], capacity: str = "2.000"):
    """An SO, a provider, one Flex Market asset per entry of ``exports_kw`` (responding at
    once), a competition open around the clock and an obligation over all the assets; and the
    agent's inventory for them (simulated batteries exporting up to each ``kw``)."""
    from support.fm import asset_body, competition_body, obligation_body, ok

    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    flex = []
    for kw in exports_kw:
        body = asset_body(active_export_capacity=f"{kw / 1000:.3f}", response_time="00:00:00")
        flex.append(await ok(await fsp.client.post("/assets/v1/", json=body), 201))
    comp = await ok(await so.client.post("/so/v1/competitions/", json=competition_body()), 201)
    body = obligation_body(comp, fsp.id, [a["id"] for a in flex], capacity=capacity)
    obligation = await ok(await so.client.post("/so/v1/obligations/", json=body), 201)
    inventory = [
        {
            "asset_id": f"battery-{i}",
            "driver": "sim",
            "kind": "battery",
            "max_import_kw": kw,
            "max_export_kw": kw,
            "flex_asset_id": a["id"],
            "device": {"capacity_kwh": kw * 4, "soc_kwh": kw * 3},
        }
        for i, (kw, a) in enumerate(zip(exports_kw, flex, strict=True))
    ]
    return so, fsp, obligation, inventory


def dispatch_body(
    obligation, capacity: str, *, start_in: float = 2.0, hours: float = 1.0, key=None
):
    start = now().replace(microsecond=0) + timedelta(seconds=start_in)
    body = {
        "so_reference": f"so-{uuid.uuid4().hex[:10]}",
        "obligation_id": obligation["id"],
        "start": z(start),
        "end": z(start + timedelta(hours=hours)),
        "capacity": capacity,
        "need_direction": obligation["need_direction"],
        "instruction_type": "dispatch",
    }
    if key is not None:
        body["signature"] = so_sign(body, key)
        body["signature_algorithm"] = "Ed25519"
    return body


async def so_status(so, instruction_id: str) -> dict:
    from support.fm import ok

    return await ok(await so.client.get(f"/so/v1/dispatches/{instruction_id}/"))


async def platform_reports(test_db, event_id: str) -> list[EcReport]:
    async with test_db.session() as s:
        return list((await s.scalars(select(EcReport).where(EcReport.event_id == event_id))).all())


async def sent(agent, key_prefix: str):
    rows = [r for r in await agent.store.reports() if r["key"].startswith(key_prefix)]
    return rows if rows and all(r["sent_at"] for r in rows) else None


def next_hour() -> datetime:
    return floor_hour(datetime.now(UTC)) + timedelta(hours=1)

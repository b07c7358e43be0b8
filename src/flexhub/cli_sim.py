"""``flexhub sim``: fleets of simulated charging stations (OCPP) and S2 resource managers, and
the system operator robot, each pointed at a running endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import typer
from rich.console import Console

from flexhub.cli_logging import configure as _logging

sim_app = typer.Typer(
    help="Simulated devices that connect to a CSMS (OCPP) or a CEM (S2), and a system operator.",
    no_args_is_help=True,
)
console = Console()


async def _run_fleet(devices: list, status, every: float = 10.0) -> None:
    """Start ``devices`` (a few at a time, to spare the server a storm of handshakes), print
    ``status(devices)`` every ``every`` seconds until interrupted, then stop them."""
    try:
        for i in range(0, len(devices), 50):
            await asyncio.gather(*(d.start() for d in devices[i : i + 50]))
            await asyncio.sleep(0.05)
        while True:
            console.print(status(devices))
            await asyncio.sleep(every)
    finally:
        await asyncio.gather(*(d.stop() for d in devices), return_exceptions=True)


@sim_app.command("chargers")
def sim_chargers(
    url: str = typer.Option(
        ..., help="The CSMS's OCPP URL without a station id, e.g. ws://127.0.0.1:9000/ocpp."
    ),
    count: int = typer.Option(1, "--count", "-n", min=1, help="How many charging stations."),
    password: str = typer.Option(
        ..., envvar="FLEXHUB_SIM_PASSWORD", help="Every station's HTTP Basic password."
    ),
    id_prefix: str = typer.Option("SIM-CP-", help="Station ids: the prefix and a number."),
    evses: int = typer.Option(1, min=1, help="EVSEs per station."),
    protocol: str = typer.Option("ocpp2.0.1", help="ocpp2.0.1 or ocpp1.6."),
    speed: float = typer.Option(1.0, min=0.001, help="Device time runs this much faster."),
    seed: int = typer.Option(0, help="Seed of the vehicles' comings and goings."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Simulated EV charging stations, SIM-CP-0001 ..., each EVSE visited by a vehicle a day."""
    import random

    from flexhub.sim.clock import SimClock
    from flexhub.sim.ocpp_station import SimEvse, SimStation, random_visits

    _logging(verbose)
    rng = random.Random(seed)
    clock = SimClock(speed)

    def status(stations: list[SimStation]) -> str:
        online = sum(s.online.is_set() for s in stations)
        kw = sum(e.power_kw for s in stations for e in s.evses.values())
        return f"{clock.now():%Y-%m-%d %H:%M} UTC  {online}/{len(stations)} online  {kw:.1f} kW"

    async def main() -> None:
        stations = [
            SimStation(
                f"{id_prefix}{i:04d}",
                url,
                password,
                [SimEvse(k, visits=random_visits(rng, clock.now())) for k in range(1, evses + 1)],
                clock=clock,
                protocol=protocol,
            )
            for i in range(1, count + 1)
        ]
        console.print(f"{count} stations ({protocol}) to {url}/<id>, {speed:g}x")
        await _run_fleet(stations, status)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@sim_app.command("s2")
def sim_s2(
    url: str = typer.Option(
        ..., help="The CEM's S2 URL without a resource id, e.g. ws://127.0.0.1:9100/s2."
    ),
    count: int = typer.Option(1, "--count", "-n", min=1, help="How many resource managers."),
    token: str = typer.Option(
        ..., envvar="FLEXHUB_SIM_TOKEN", help="Every resource manager's bearer token."
    ),
    id_prefix: str = typer.Option("SIM-RM-", help="Resource ids: the prefix and a number."),
    kinds: str = typer.Option("battery,tank,ev", help="Devices, in turn: battery, tank and/or ev."),
    speed: float = typer.Option(1.0, min=0.001, help="Device time runs this much faster."),
    seed: int = typer.Option(0, help="Seed of the devices' sizes and states."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Simulated S2 resource managers: home batteries, hot water tanks and EVs, in turn."""
    import random

    from flexhub.sim.clock import SimClock
    from flexhub.sim.s2_devices import KINDS, random_device
    from flexhub.sim.s2_resource import SimResource

    chosen = [k.strip() for k in kinds.split(",") if k.strip()]
    if not chosen or set(chosen) - set(KINDS):
        raise typer.BadParameter(f"kinds are among {', '.join(KINDS)}", param_hint="--kinds")
    _logging(verbose)
    if not verbose:
        logging.getLogger("s2python").setLevel(logging.WARNING)
    rng = random.Random(seed)
    clock = SimClock(speed)

    def status(rms: list[SimResource]) -> str:
        online = sum(r.online.is_set() for r in rms)
        kw = sum(r.history[-1][1] for r in rms if r.history)
        return f"{clock.now():%Y-%m-%d %H:%M} UTC  {online}/{len(rms)} online  {kw:.1f} kW"

    async def main() -> None:
        rms = [
            SimResource(
                f"{id_prefix}{i:04d}",
                url,
                token,
                random_device(chosen[(i - 1) % len(chosen)], rng, clock.now()),
                clock=clock,
            )
            for i in range(1, count + 1)
        ]
        console.print(f"{count} resource managers ({', '.join(chosen)}) to {url}/<id>, {speed:g}x")
        await _run_fleet(rms, status)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@sim_app.command("operator")
def sim_operator(
    url: str = typer.Option("http://127.0.0.1:8000", help="The Flex Market API's base URL."),
    client_id: str = typer.Option(..., envvar="FLEXHUB_SO_CLIENT_ID", help="The SO's client id."),
    api_key: str = typer.Option(
        ..., envvar="FLEXHUB_SO_API_KEY", help="The SO's API key (client secret); not echoed."
    ),
    key: str = typer.Option(
        None, help="The SO's Ed25519 private key (PEM file): instructions are signed with it."
    ),
    provider: str = typer.Option(..., help="The provider's id (the provider field of its assets)."),
    assets: str = typer.Option(..., help="The provider's asset ids to obligate, comma-separated."),
    capacity: str = typer.Option("2.000", help="MW of the obligation and of each instruction."),
    too_much: str = typer.Option(None, help="Also issue one instruction for this many MW."),
    speed: float = typer.Option(1440.0, min=0.001, help="Clock speed (1440: a day a minute)."),
    wait: float = typer.Option(30.0, help="Seconds to wait for answers and deliveries."),
    answer_wait: float = typer.Option(
        30.0, help="Seconds to wait for the provider's answer before stopping an instruction."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """A system operator's day: a competition, an obligation on the provider's assets, signed
    instructions on the clock (one stopped early), and what became of each."""
    from decimal import Decimal
    from pathlib import Path

    from rich.table import Table

    from flexhub.clients import FlexMarketOperatorClient
    from flexhub.clock import ScaledClock
    from flexhub.signing import load_private_key
    from flexhub.sim.operator import day_plan, play_day

    _logging(verbose)
    signing_key = load_private_key(Path(key).read_bytes()) if key else None
    asset_ids = [a.strip() for a in assets.split(",") if a.strip()]
    plan = day_plan(Decimal(capacity), too_much=Decimal(too_much) if too_much else None)

    async def main():
        async with FlexMarketOperatorClient(
            url, client_id=client_id, api_key=api_key, signing_key=signing_key
        ) as client:
            return await play_day(
                client,
                ScaledClock(speed),
                provider_id=provider,
                asset_ids=asset_ids,
                capacity=Decimal(capacity),
                plan=plan,
                wait_seconds=wait,
                answer_wait=answer_wait,
            )

    record = asyncio.run(main())
    table = Table("instruction", "start", "MW", "status", "reason", "stopped by", "webhooks")
    for issued in record.issued:
        i = issued.instruction
        delivered = sum(d.status == "delivered" for d in issued.deliveries)
        table.add_row(
            i.id if i else "(refused)",
            i.start if i else "",
            i.capacity if i else str(issued.planned.capacity),
            issued.status or "",
            issued.reason or issued.refused or "",
            issued.stop.id if issued.stop else "",
            f"{delivered}/{len(issued.deliveries)} delivered",
        )
    console.print(table)
    percentiles = record.latency_percentiles()
    if percentiles:
        console.print(f"webhook latency p50 {percentiles[0]:.3f} s, p99 {percentiles[1]:.3f} s")

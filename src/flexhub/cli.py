"""The ``flexhub`` command: demo, platform serve, worker, partner (add, disable, enable,
revoke-tokens, rotate-secret), keys (rotate, list)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import typer
from rich.console import Console

from flexhub.config import load_settings

app = typer.Typer(
    help="flexhub: flexibility hub platform, provider agent and simulator.", no_args_is_help=True
)
platform_app = typer.Typer(
    help="The hub: APIs, engines and webhook delivery.", no_args_is_help=True
)
partner_app = typer.Typer(help="Partners (tenants) and their credentials.", no_args_is_help=True)
keys_app = typer.Typer(help="The platform's signing keys.", no_args_is_help=True)
sim_app = typer.Typer(
    help="Simulated devices that connect to a CSMS (OCPP) or a CEM (S2).", no_args_is_help=True
)
app.add_typer(platform_app, name="platform")
app.add_typer(partner_app, name="partner")
app.add_typer(keys_app, name="keys")
app.add_typer(sim_app, name="sim")
console = Console()


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@platform_app.command("serve")
def serve(
    host: str = typer.Option(None, help="Listen address (FLEXHUB_HOST)."),
    port: int = typer.Option(None, help="Listen port (FLEXHUB_PORT)."),
    worker: bool = typer.Option(
        None, "--worker/--no-worker", help="Run the delivery worker in this process."
    ),
) -> None:
    """Run the platform's HTTP APIs (and, by default, a delivery worker)."""
    import uvicorn

    from flexhub.platform.app import create_app

    overrides = {
        k: v for k, v in {"host": host, "port": port, "run_worker": worker}.items() if v is not None
    }
    settings = load_settings(**overrides)
    _logging(False)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,  # the app believes FLEXHUB_TRUSTED_PROXIES only
    )


@app.command("worker")
def worker(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run a webhook delivery worker (several may run against one PostgreSQL database)."""
    from flexhub.platform.app import open_context, platform_channels
    from flexhub.platform.delivery.worker import Worker

    _logging(verbose)

    async def main() -> None:
        ctx = await open_context(load_settings())
        w = Worker(ctx, platform_channels(ctx))
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, w.stop)
        console.print(f"worker {w.id} delivering from {ctx.settings.database_url}")
        try:
            await w.run()
        finally:
            await ctx.db.dispose()

    asyncio.run(main())


@partner_app.command("add")
def partner_add(
    name: str,
    role: str = typer.Option("provider", help="provider, system_operator or admin."),
) -> None:
    """Create a partner; prints its client id and secret once (the secret is stored hashed)."""
    from flexhub.platform.auth import ROLES, PartnerExists, add_partner
    from flexhub.store.database import Database

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    settings = load_settings()

    async def main() -> None:
        db = Database(settings.database_url)
        await db.upgrade()
        try:
            async with db.session() as session:
                creds = await add_partner(session, name, role)
                await session.commit()
        finally:
            await db.dispose()
        console.print(f"partner:       {name} ({role})")
        console.print(f"partner id:    {creds.partner_id}")
        console.print(f"client id:     {creds.client_id}")
        console.print(f"client secret: {creds.client_secret}")
        console.print("[yellow]The secret is shown only now; it is stored hashed.[/yellow]")

    try:
        asyncio.run(main())
    except PartnerExists:
        console.print(f"[red]a partner named {name!r} exists already[/red]")
        raise typer.Exit(1) from None


def _change_partner(ref: str, change) -> str:
    """Apply ``change(partner) -> message`` to the partner named by ``ref`` and commit."""
    from flexhub.platform.partners import NoSuchPartner, find_partner
    from flexhub.store.database import Database

    settings = load_settings()

    async def main() -> str:
        db = Database(settings.database_url)
        await db.upgrade()
        try:
            async with db.session() as session:
                partner = await find_partner(session, ref)
                message = change(partner)
                await session.commit()
                return message
        finally:
            await db.dispose()

    try:
        message = asyncio.run(main())
    except NoSuchPartner:
        console.print(f"[red]no single partner has the id, client id or name {ref!r}[/red]")
        raise typer.Exit(1) from None
    console.print(message)
    console.print(f"Running platforms apply it within {settings.partner_cache_seconds:g} seconds.")
    return message


PARTNER_REF = typer.Argument(..., help="The partner's id, client id or name.")


@partner_app.command("disable")
def partner_disable(ref: str = PARTNER_REF) -> None:
    """Refuse the partner's credentials and every token it holds."""
    from flexhub.platform.partners import set_disabled

    def change(partner) -> str:
        set_disabled(partner, True)
        return f"partner {partner.name} ({partner.id}) is disabled; its tokens are revoked"

    _change_partner(ref, change)


@partner_app.command("enable")
def partner_enable(ref: str = PARTNER_REF) -> None:
    """Accept the partner's credentials again (tokens revoked earlier stay revoked)."""
    from flexhub.platform.partners import set_disabled

    def change(partner) -> str:
        set_disabled(partner, False)
        return f"partner {partner.name} ({partner.id}) is enabled"

    _change_partner(ref, change)


@partner_app.command("revoke-tokens")
def partner_revoke_tokens(ref: str = PARTNER_REF) -> None:
    """Refuse every token issued to the partner so far; it may fetch new ones."""
    from flexhub.platform.partners import revoke_tokens

    def change(partner) -> str:
        revoke_tokens(partner)
        return f"every token of partner {partner.name} ({partner.id}) issued so far is revoked"

    _change_partner(ref, change)


@partner_app.command("rotate-secret")
def partner_rotate_secret(
    ref: str = PARTNER_REF,
    keep_tokens: bool = typer.Option(
        False, "--keep-tokens", help="Leave the tokens issued so far valid."
    ),
) -> None:
    """Give the partner a new client secret (printed once); the old one stops working."""
    from flexhub.platform.partners import rotate_secret

    def change(partner) -> str:
        secret = rotate_secret(partner, revoke=not keep_tokens)
        revoked = "" if keep_tokens else "; its tokens are revoked"
        return (
            f"partner {partner.name} ({partner.id}){revoked}\n"
            f"client id:     {partner.client_id}\n"
            f"client secret: {secret}\n"
            "The secret is shown only now; it is stored hashed."
        )

    _change_partner(ref, change)


KEY_KINDS = ("webhooks", "tokens", "secrets")


def _key_store(kind: str):
    from flexhub.platform.context import token_key_store, webhook_key_store

    settings = load_settings()
    if kind == "tokens":
        return token_key_store(settings).load()
    if kind == "webhooks":
        return webhook_key_store(settings).load()
    raise typer.BadParameter(f"--for must be one of {', '.join(KEY_KINDS)}")


@keys_app.command("rotate")
def keys_rotate(
    kind: str = typer.Option(
        "webhooks",
        "--for",
        help="webhooks (signs Flex Market deliveries), tokens (signs access tokens) or "
        "secrets (encrypts webhook secrets at rest; re-encrypts every stored one).",
    ),
) -> None:
    """Make a new key current. A signing key's predecessor stays valid for a grace period
    (webhooks: published two days; tokens: as long as a token lives)."""
    if kind == "secrets":
        _rotate_secret_key()
        return
    key = _key_store(kind).rotate()
    console.print(f"current {kind} signing key is now {key.kid} ({key.algorithm})")


def _rotate_secret_key() -> None:
    from flexhub.platform import secretbox
    from flexhub.store.database import Database

    settings = load_settings()

    async def main() -> int:
        db = Database(settings.database_url)
        await db.upgrade()
        try:
            async with db.session() as session:
                box = secretbox.SecretBox.from_settings(settings)
                _, count = await secretbox.rotate(session, box)
        finally:
            await db.dispose()
        return count

    count = asyncio.run(main())
    where = "FLEXHUB_SECRET_KEYS' first key" if settings.secret_keys else "a new key"
    console.print(f"{count} webhook secret(s) re-encrypted with {where}")


@keys_app.command("list")
def keys_list(
    kind: str = typer.Option("webhooks", "--for", help="webhooks or tokens."),
) -> None:
    """Show the published signing keys."""
    store = _key_store(kind)
    current = store.current.kid
    for key in store.published():
        mark = "current" if key.kid == current else f"retired {key.retired_at:%Y-%m-%d %H:%M}"
        console.print(f"{key.kid}  {key.algorithm}  {mark}")


@app.command("demo")
def demo() -> None:
    """Run the demo: platform on SQLite, a sandbox partner, a price curve to a local receiver."""
    from flexhub.sim.demo import run_demo

    asyncio.run(run_demo(console))


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


if __name__ == "__main__":
    app()

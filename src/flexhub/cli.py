"""The ``flexhub`` command: demo, platform serve, platform neighbourhoods load, worker,
partner (add, disable, enable, revoke-tokens, rotate-secret), keys (rotate, list)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import typer
from rich.console import Console

from flexhub import heap
from flexhub.cli_grid import register as register_grid_commands
from flexhub.cli_logging import configure as _logging
from flexhub.cli_sim import sim_app
from flexhub.config import load_settings

app = typer.Typer(
    help="flexhub: flexibility hub platform, provider agent and simulator.", no_args_is_help=True
)
platform_app = typer.Typer(
    help="The hub: APIs, engines and webhook delivery.", no_args_is_help=True
)
partner_app = typer.Typer(help="Partners (tenants) and their credentials.", no_args_is_help=True)
keys_app = typer.Typer(help="The platform's signing keys.", no_args_is_help=True)
neighbourhoods_app = typer.Typer(
    help="Neighbourhoods: grid areas behind one transformer (GeoJSON).", no_args_is_help=True
)
platform_app.add_typer(neighbourhoods_app, name="neighbourhoods")
app.add_typer(platform_app, name="platform")
app.add_typer(partner_app, name="partner")
app.add_typer(keys_app, name="keys")
app.add_typer(sim_app, name="sim")
register_grid_commands(platform_app)  # forecast import, price-curves
agent_app = typer.Typer(help="The provider agent.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
console = Console()


@platform_app.command("serve")
def serve(
    host: str = typer.Option(None, help="Listen address (FLEXHUB_HOST)."),
    port: int = typer.Option(None, help="Listen port (FLEXHUB_PORT)."),
    worker: bool = typer.Option(
        None, "--worker/--no-worker", help="Run the delivery worker in this process."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Server processes on the one port (PostgreSQL only)."
    ),
) -> None:
    """Run the platform's HTTP APIs (and, by default, a delivery worker).

    With ``--workers N`` (PostgreSQL), N processes serve the one port (uvicorn's workers: the
    kernel spreads the connections); each runs its own delivery worker and background loops,
    which are safe side by side on PostgreSQL (claims and conditional updates)."""
    import os

    import uvicorn

    overrides = {
        k: v for k, v in {"host": host, "port": port, "run_worker": worker}.items() if v is not None
    }
    settings = load_settings(**overrides)
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        console.print(
            f"[red]--workers {workers} needs PostgreSQL: SQLite takes one writer at a time, so "
            "`platform serve` on SQLite is one process (set FLEXHUB_DATABASE_URL to "
            "postgresql+asyncpg://...)[/red]"
        )
        raise typer.Exit(2)
    _logging(False)
    options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "proxy_headers": False,  # the app believes FLEXHUB_TRUSTED_PROXIES only
        "timeout_keep_alive": 75,  # agents call every few seconds: keep their connections
    }
    if workers == 1:
        from flexhub.platform.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    if "memory" in (settings.rate_limit_storage or "memory://"):
        console.print(
            f"rate limits are counted per process ({workers} processes): set "
            "FLEXHUB_RATE_LIMIT_STORAGE=redis://... for one count",
            highlight=False,
        )
    # the worker processes read their settings from the environment: the options go there
    for name, value in overrides.items():
        os.environ[f"FLEXHUB_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    uvicorn.run("flexhub.platform.app:create_app", factory=True, workers=workers, **options)


@neighbourhoods_app.command("load")
def neighbourhoods_load(
    file: str = typer.Argument(..., help="A GeoJSON FeatureCollection, one Feature each."),
) -> None:
    """Make the platform's neighbourhoods those of FILE (a reload updates, and removes what
    the file no longer has); eligibility follows at once. A bad file changes nothing."""
    from flexhub.platform.coordination.services.neighbourhoods import replace
    from flexhub.platform.engines.neighbourhoods import CollectionError, parse_collection
    from flexhub.store.database import Database

    try:
        with open(file, "rb") as fh:
            data = json.loads(fh.read())
        specs = parse_collection(data)
    except OSError as exc:
        console.print(f"[red]cannot read {file}: {exc.strerror or exc}[/red]")
        raise typer.Exit(1) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        console.print(f"[red]{file} is not JSON: {exc}[/red]")
        raise typer.Exit(1) from None
    except CollectionError as exc:
        console.print(f"[red]{file} was not loaded (nothing changed):[/red]")
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    settings = load_settings()

    async def main():
        db = Database(settings.database_url)
        await db.upgrade()
        try:
            async with db.session() as session:
                return await replace(session, specs, sandbox=settings.sandbox_neighbourhoods)
        finally:
            await db.dispose()

    done = asyncio.run(main())
    console.print(
        f"{len(specs)} neighbourhood(s) in {file}: {len(done.added)} added, "
        f"{len(done.updated)} updated, {len(done.removed)} removed, "
        f"{len(done.unchanged)} unchanged; users now eligible: {done.usersAdded}, "
        f"no longer: {done.usersRemoved}",
        highlight=False,
    )


@app.command("worker")
def worker(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run a webhook delivery worker (several may run against one PostgreSQL database) and
    the eligibility cycle (one process runs each cycle)."""
    from flexhub.platform.app import open_context, platform_channels
    from flexhub.platform.coordination.services.eligibility_cycle import run_cycles
    from flexhub.platform.coordination.services.price_curve_schedule import run_schedule
    from flexhub.platform.delivery.worker import Worker

    _logging(verbose)

    async def main() -> None:
        ctx = await open_context(load_settings())
        w = Worker(ctx, platform_channels(ctx))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        def shutdown() -> None:
            w.stop()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, shutdown)
        cycles = asyncio.create_task(
            run_cycles(ctx.db, ctx.settings.eligibility_cycle_seconds, stop, f"worker {w.id}")
        )
        console.print(f"worker {w.id} delivering from {ctx.settings.database_url}")
        curves = asyncio.create_task(run_schedule(ctx, stop), name="price-curves")
        if ctx.settings.settle_heap:
            heap.settle()
        try:
            await w.run()
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.gather(curves, cycles), timeout=10)
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


@agent_app.command("init")
def agent_init(
    path: str = typer.Argument("agent.toml", help="Where to write the example configuration."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented example agent configuration."""
    from pathlib import Path

    from flexhub.agent.config import example_config

    target = Path(path)
    if target.exists() and not force:
        console.print(f"{target} exists (--force overwrites it)")
        raise typer.Exit(1)
    target.write_text(example_config(), encoding="utf-8")
    console.print(f"wrote {target}; edit it, then: flexhub agent run --config {target}")


@agent_app.command("run")
def agent_run(
    config: str = typer.Option("agent.toml", "--config", "-c", help="The agent's TOML file."),
) -> None:
    """Run the agent: receiver, inbox, reconciliation, drivers, reports."""
    from pydantic import ValidationError

    from flexhub.agent.config import load_config
    from flexhub.agent.observe import setup_logging
    from flexhub.agent.runtime import run_forever

    try:
        cfg = load_config(config)
    except (OSError, ValidationError, ValueError) as exc:
        console.print(f"cannot use {config}: {exc}")
        raise typer.Exit(2) from None
    setup_logging(cfg.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_forever(cfg))


@app.command("demo")
def demo(
    size: int = typer.Option(300, "--size", min=4, help="How many simulated homes."),
    seed: int = typer.Option(1, "--seed", help="The seed the homes are drawn from."),
    day_seconds: float = typer.Option(
        45.0, "--day-seconds", min=5.0, help="Wall seconds the day takes to play."
    ),
    report: str = typer.Option("demo-report.html", "--report", help="Where the report goes."),
    linger: float = typer.Option(
        0.0, "--linger", min=0.0, help="Keep the platform and agent up this many seconds."
    ),
) -> None:
    """One flexibility day on this machine: platform, delivery worker, agent, SO robot and
    simulated homes (SQLite in a temporary directory, or FLEXHUB_DATABASE_URL's PostgreSQL)."""
    from pathlib import Path

    from flexhub.demo.run import run_demo

    code = asyncio.run(
        run_demo(
            console,
            size=size,
            seed=seed,
            day_seconds=day_seconds,
            report_path=Path(report),
            linger=linger,
        )
    )
    raise typer.Exit(code)


if __name__ == "__main__":
    app()

"""The ``flexhub`` command: demo, platform serve, worker, partner add, keys."""

from __future__ import annotations

import asyncio
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
app.add_typer(platform_app, name="platform")
app.add_typer(partner_app, name="partner")
app.add_typer(keys_app, name="keys")
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


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key current; the previous one stays published for a grace period."""
    from flexhub.platform.keys import KeyStore

    store = KeyStore(load_settings().data_dir / "keys").load()
    key = store.rotate()
    console.print(f"current signing key is now {key.kid} ({key.algorithm})")


@keys_app.command("list")
def keys_list() -> None:
    """Show the published signing keys."""
    from flexhub.platform.keys import KeyStore

    store = KeyStore(load_settings().data_dir / "keys").load()
    current = store.current.kid
    for key in store.published():
        mark = "current" if key.kid == current else f"retired {key.retired_at:%Y-%m-%d %H:%M}"
        console.print(f"{key.kid}  {key.algorithm}  {mark}")


@app.command("demo")
def demo() -> None:
    """Run the demo: platform on SQLite, a sandbox partner, a price curve to a local receiver."""
    from flexhub.sim.demo import run_demo

    asyncio.run(run_demo(console))


if __name__ == "__main__":
    app()

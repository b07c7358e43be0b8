"""``flexhub platform forecast import FILE`` and ``flexhub platform price-curves --date``:
the grid engines on demand, against the configured database (the schema is upgraded first)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from flexhub.config import load_settings

console = Console()
forecast_app = typer.Typer(help="The need forecast: imported hourly needs.", no_args_is_help=True)


def _database():
    from flexhub.store.database import Database

    return Database(load_settings().database_url)


@forecast_app.command("import")
def forecast_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A CSV or JSON file."),
) -> None:
    """Import hourly needs per neighbourhood (they override the built-in forecast)."""
    from flexhub.platform.coordination.services import forecast_import as service
    from flexhub.platform.errors import ApiError

    kind = (
        "csv"
        if file.suffix.lower() == ".csv"
        else "json"
        if file.suffix.lower() == ".json"
        else None
    )

    data = file.read_bytes()

    async def main():
        db = _database()
        await db.upgrade()
        try:
            async with db.session() as session:
                return await service.import_needs(session, service.parse_or_400(data, kind))
        finally:
            await db.dispose()

    try:
        outcome = asyncio.run(main())
    except ApiError as exc:
        console.print(f"[red]{file}: {exc.message}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"imported {outcome.rows} hourly needs for {len(outcome.neighbourhoods)} neighbourhoods "
        f"({outcome.first_hour.isoformat()} to {outcome.last_hour.isoformat()})"
    )


def price_curves(
    day: str = typer.Option(..., "--date", help="The local delivery day, YYYY-MM-DD."),
    price_area: str = typer.Option(None, "--price-area", help="Only this price area."),
) -> None:
    """Send the day-ahead price curves for a local day (neighbourhoods already run for it
    send nothing again)."""
    from flexhub.platform.coordination.services.price_curve_runs import run_day
    from flexhub.platform.engines.load_model import BuiltinForecaster
    from flexhub.timeseries import PRICE_AREA_ZONES

    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        wanted = None
    if wanted is None or not 2000 <= wanted.year <= 2999:
        raise typer.BadParameter(f"{day!r} is not a date like 2027-03-28 (years 2000-2999)")
    if price_area is not None and price_area not in PRICE_AREA_ZONES:
        raise typer.BadParameter(f"{price_area!r} is not a price area")

    async def main():
        db = _database()
        await db.upgrade()
        try:
            return await run_day(
                db, BuiltinForecaster(), wanted, trigger="cli", price_area=price_area
            )
        finally:
            await db.dispose()

    outcome = asyncio.run(main())
    for run in outcome.runs:
        console.print(
            f"{run.neighbourhood_id} ({run.price_area}): {run.need_hours} hours with a need, "
            f"{run.events} events, {run.targets} targets"
        )
    if outcome.skipped:
        console.print(f"already run for {wanted}: {', '.join(outcome.skipped)}")
    console.print(f"{wanted}: {outcome.events} events, {outcome.targets} targets sent")


def register(platform_app: typer.Typer) -> None:
    platform_app.add_typer(forecast_app, name="forecast")
    platform_app.command("price-curves")(price_curves)

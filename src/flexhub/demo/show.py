"""The demo's Rich progress: one line per step as it finishes, and a bar for the day's clock."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from flexhub.clock import ScaledClock
from flexhub.demo.day import Day
from flexhub.demo.homes import ZONE
from flexhub.demo.scenario import Stage


class RichStage(Stage):
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[when]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = None
        self._day = None

    def __enter__(self) -> RichStage:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def step(self, text: str) -> None:
        if self._task is not None:
            self.progress.remove_task(self._task)
        self._task = self.progress.add_task(text, total=None, when="")

    def done(self, text: str) -> None:
        self.console.print(f"[green]✓[/green] {text}")

    def day(self, clock: ScaledClock, day: Day) -> None:
        if self._day is None:
            if self._task is not None:
                self.progress.remove_task(self._task)
                self._task = None
            self._day = self.progress.add_task(
                f"playing {day.date} at x{clock.speed:.0f}", total=24.0, when=""
            )
        now = clock.now()
        hours = (now - day.start).total_seconds() / 3600
        self.progress.update(
            self._day,
            completed=max(0.0, min(hours, 24.0)),
            when=now.astimezone(ZoneInfo(ZONE)).strftime("%a %H:%M Oslo"),
        )

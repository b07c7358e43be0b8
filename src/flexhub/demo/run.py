"""``flexhub demo``: play the day, print the summary, write ``demo-report.html``; exit status 0
only when every flow happened."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from flexhub.demo import figures, report, scenario
from flexhub.demo.show import RichStage
from flexhub.demo.summary import summary


async def run_demo(
    console: Console,
    *,
    size: int = 300,
    seed: int = 1,
    day_seconds: float = 45.0,
    report_path: Path = Path("demo-report.html"),
    linger: float = 0.0,
) -> int:
    started = time.perf_counter()
    console.rule("[bold]flexhub demo")
    with RichStage(console) as stage:
        async with scenario.play(size, seed, day_seconds=day_seconds, stage=stage) as played:
            stage.step("reading the day back from the APIs and the agent")
            got = await figures.collect(played)
            report.write(got, played, report_path)
            stage.done(f"report written to {report_path}")
            if linger > 0:
                stage.step(
                    f"dashboards: {played.hub.base_url}/dashboard and "
                    f"{played.agent.receiver_url}/dashboard (for {linger:.0f} s)"
                )
                import asyncio

                await asyncio.sleep(linger)
    console.print(summary(got))
    problems = got.problems()
    wall = time.perf_counter() - started
    if problems:
        console.print("[red]flows that did not happen:[/red]")
        for p in problems:
            console.print(f"  - {p}")
        console.rule(f"[red]demo incomplete[/red] ({wall:.0f} s)")
        return 1
    console.rule(f"[bold green]every flow happened[/bold green] ({wall:.0f} s wall time)")
    return 0

"""The demo's summary as Rich tables, from :class:`flexhub.demo.figures.Figures`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table

from flexhub.demo.figures import Figures
from flexhub.demo.homes import ZONE


def _hhmm(when) -> str:
    return when.astimezone(ZoneInfo(ZONE)).strftime("%H:%M")


def _short(text: str, n: int = 100) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def instructions_table(f: Figures) -> Table:
    t = Table(title="Dispatch instructions (tomorrow, Oslo time)", title_justify="left")
    for col, just in (
        ("instruction", "left"),
        ("window", "left"),
        ("requested MW", "right"),
        ("status", "left"),
        ("delivered MW", "right"),
        ("webhooks", "right"),
        ("note", "left"),
    ):
        t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for i in f.instructions:
        note = i.reason or ""
        if i.stopped_at is not None:
            note = f"stopped at {_hhmm(i.stopped_at)}; agent {i.agent_state}"
        note = _short(note, 60)
        t.add_row(
            i.name,
            f"{_hhmm(i.start)}-{_hhmm(i.end)}",
            f"{i.requested_mw:.3f}",
            i.status,
            f"{i.delivered_mw:.3f}" if i.status != "rejected" else "-",
            str(i.deliveries),
            note,
        )
    return t


def flows_table(f: Figures) -> Table:
    t = Table(title="The day", title_justify="left")
    t.add_column("flow")
    t.add_column("figure", overflow="fold")
    accepted = [i for i in f.instructions if i.status in ("accepted", "completed")]
    rejected = [i for i in f.instructions if i.status == "rejected"]
    delivered = sum(i.deliveries for i in f.instructions)
    t.add_row(
        "instructions delivered / accepted / rejected",
        f"{delivered} / {len(accepted)} / {len(rejected)}"
        + "".join(f"\n  rejected {i.name}: {_short(i.reason or '')}" for i in rejected),
    )
    t.add_row(
        "MW requested vs delivered (accepted)",
        ", ".join(f"{i.name} {i.requested_mw:.3f} vs {i.delivered_mw:.3f}" for i in accepted),
    )
    out, into = f.moved()
    t.add_row(
        "kWh moved out of strained hours / into surplus hours",
        f"{out:,.1f} / {into:,.1f} kWh ({len(f.curves)} price curves, "
        f"{sum(len(c.resources) for c in f.curves)} resources)",
    )
    mine = [lim for lim in f.limits if lim.requested]
    kept = sum(lim.compliant for lim in f.limits)
    acked = sum(lim.acknowledged for lim in f.limits)
    text = f"{kept}/{len(f.limits)} limited locations kept every hour, {acked} acknowledged"
    for lim in mine:
        text += (
            f"\n  operator's LPC on {lim.location_id}: {min(lim.limit_kw, default=0):.1f} kW, "
            f"highest hour {max(lim.load_kwh, default=0.0):.2f} kWh ({lim.state})"
        )
    t.add_row("LPC compliance", text)
    for partner, per in f.compensation.items():
        amounts = ", ".join(f"{v:,.2f} {cur}" for cur, v in per.items()) or "0"
        t.add_row(f"compensation: {partner}", f"{amounts} ({f.compensated_users} users)")
    for d in f.deliveries:
        t.add_row(
            f"webhooks, {d.api}",
            f"{d.succeeded}/{d.total} delivered, event → 2xx p50 {d.p50_ms:.0f} ms, "
            f"p99 {d.p99_ms:.0f} ms",
        )
    t.add_row("webhooks refused by the agent", f"{f.rejected_webhooks:.0f}")
    return t


def summary(f: Figures) -> Group:
    return Group(instructions_table(f), flows_table(f))

"""The soak's end (``bench/soak.py``): wait for the backlog to clear, then check that every
instruction and every price-curve event reached the agent and was acted on exactly once, and
work out throughput, latency and the recovery after each fault.

Exactly once, as ``tests/agent/test_restart.py`` checks it, but over every lifetime of the agent
process: one inbox message per instruction / event (the store's keys), processed (its
``processed_at``), and one ``processed:`` line per instruction / event in the agent's log over
all its starts (an action taken twice, e.g. after a restart, shows there as a second line); one
``assets commanded`` line and a ``commanded_at`` per instruction. The platform's delivery logs
(``outbox``, ``delivery_attempts``) say how each was delivered: a webhook delivered twice is not
a fault as long as the agent's inbox stored it once.

Recovery after a fault: the normal latency is that of the instructions issued before the first
fault (p99); the flow is back when an instruction issued after the part was back, and the next
ones, are commanded within max(3 × that p99, p99 + 1 s), and everything issued since the fault
has been commanded. The recovery time runs from the fault to the later of those commands.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from figures import percentile  # bench/figures.py (soak.py put bench/ on sys.path)

CTX = re.compile(r"\[([^\]]*)\] (processed:|assets commanded)")


@dataclass
class Issued:
    id: str
    posted: float  # wall time just before the SO's POST
    answered: float  # the POST's 201


@dataclass
class Fault:
    name: str
    start: float
    end: float  # the part back (restarted); the start for an instant fault
    recovery: float | None = None  # s from the fault until the flow was back to normal
    affected: int = 0  # instructions issued from the fault until the flow was back

    @property
    def down(self) -> float:
        return self.end - self.start


@dataclass
class Outcome:
    opts: Any
    instructions: int = 0
    refused: int = 0
    late: int = 0  # windows over before the agent answered (it was down, or behind)
    events: int = 0
    targets: int = 0
    problems: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    commanded_per_minute: float = 0.0
    latency_normal: tuple[float, float] = (float("nan"), float("nan"))  # ms p50, p99
    latency_all: tuple[float, float, float] = (float("nan"),) * 3  # ms p50, p99, max
    accept_normal: tuple[float, float] = (float("nan"), float("nan"))
    answer_p50: float = float("nan")
    answer_p99: float = float("nan")
    event_latency: list[float] = field(default_factory=list)  # s, created -> agent stored
    curve_run_seconds: list[float] = field(default_factory=list)
    deliveries: Counter = field(default_factory=Counter)  # what the delivery logs say
    agent_metrics: dict[str, float] = field(default_factory=dict)
    drained_seconds: float = 0.0

    @property
    def problems_count(self) -> int:
        return len(self.problems)

    def report(self) -> str:
        o = self.opts
        lines = [
            f"soak: {o.minutes:g} min at {o.rate:g} instructions/min, {o.resources:,} resources "
            f"in {o.neighbourhoods} neighbourhoods (agent runs {o.agent_resources} of them)",
            f"  instructions issued {self.instructions:,} (refused by the platform: "
            f"{self.refused}), commanded {self.commanded_per_minute:,.0f}/min; windows over "
            f"before the agent answered: {self.late}",
            f"  SO POST -> asset command: outside faults p50 {self.latency_normal[0]:.0f} ms, "
            f"p99 {self.latency_normal[1]:.0f} ms; all p50 {self.latency_all[0]:.0f} ms, p99 "
            f"{self.latency_all[1]:.0f} ms, max {self.latency_all[2]:.0f} ms",
            f"  SO POST -> agent's answer (processed): outside faults p50 "
            f"{self.accept_normal[0]:.0f} ms, p99 {self.accept_normal[1]:.0f} ms; SO POST "
            f"answered p50 {self.answer_p50:.0f} ms, p99 {self.answer_p99:.0f} ms",
            f"  price curves: {self.events} events, {self.targets:,} targets; run "
            + ", ".join(f"{s:.1f} s" for s in self.curve_run_seconds)
            + (
                f"; event -> agent stored p50 {statistics.median(self.event_latency):.1f} s, "
                f"max {max(self.event_latency):.1f} s"
                if self.event_latency
                else ""
            ),
            "  delivery logs: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(self.deliveries.items())),
            "  agent (last lifetime's metrics): "
            + ", ".join(f"{k} {v:g}" for k, v in sorted(self.agent_metrics.items())),
            f"  backlog cleared {self.drained_seconds:.1f} s after the load ended",
        ]
        for f in self.faults:
            rec = "NOT back before the load ended" if f.recovery is None else f"{f.recovery:.1f} s"
            down = f", down {f.down:.1f} s" if f.down else ""
            if f.down and f.recovery is not None:
                rec += f" ({f.recovery - f.down:.1f} s after it was back)"
            lines.append(
                f"  fault: {f.name}{down}: back to normal: {rec} after it "
                f"({f.affected} instructions issued meanwhile)"
            )
        verdict = (
            "nothing lost, nothing acted on twice"
            if not self.problems
            else (f"{len(self.problems)} PROBLEMS:")
        )
        lines.append(f"  {verdict}")
        kinds = Counter(p.split(": ", 1)[-1] for p in self.problems)
        lines += [f"    {n} x {kind}" for kind, n in kinds.most_common()]
        lines += [f"    e.g. {p}" for p in self.problems[:5]]
        return "\n".join(lines)


# --- reading the agent ---------------------------------------------------------------------------


def agent_rows(db_path: Path) -> tuple[list[dict], dict[str, dict]]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as conn:
        conn.row_factory = sqlite3.Row
        inbox = [
            dict(r)
            for r in conn.execute(
                "SELECT source, kind, subject, received_at, processed_at, outcome FROM agent_inbox"
            )
        ]
        dispatches = {
            r["instruction_id"]: dict(r)
            for r in conn.execute(
                "SELECT instruction_id, state, reason, commanded_at FROM agent_dispatches"
            )
        }
    return inbox, dispatches


def log_counts(log: Path) -> tuple[Counter, Counter]:
    """(processed lines by instruction or event id, 'assets commanded' lines by instruction)."""
    processed: Counter = Counter()
    commanded: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        m = CTX.search(line)
        if not m:
            continue
        ids = dict(kv.split("=", 1) for kv in m.group(1).split() if "=" in kv)
        key = ids.get("instruction") or ids.get("event")
        if key is None:
            continue
        (processed if m.group(2) == "processed:" else commanded)[key] += 1
    return processed, commanded


async def metrics(url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as r:
            text = await r.text()
    except aiohttp.ClientError:
        return out
    for line in text.splitlines():
        if line.startswith("#") or "_total" not in line:
            continue
        name, _, value = line.rpartition(" ")
        out[name] = out.get(name, 0.0) + float(value)
    return out


# --- the checks ----------------------------------------------------------------------------------


async def platform_rows(db_url: str, tenant: str) -> dict[str, Any]:
    from soak_setup import dsn

    conn = await asyncpg.connect(dsn(db_url))
    try:
        events = await conn.fetch(
            "SELECT id, created_at, payload FROM ec_events "
            "WHERE tenant_id = $1 AND payload_type = 'PriceCurve'",
            tenant,
        )
        fm = await conn.fetch(
            "SELECT id, event_type, data->>'id' AS subject FROM fm_events WHERE tenant_id = $1",
            tenant,
        )
        outbox = await conn.fetch(
            "SELECT o.event_id, o.status, o.attempts, "
            "(SELECT count(*) FROM delivery_attempts a WHERE a.outbox_id = o.id AND a.succeeded)"
            " AS succeeded FROM outbox o WHERE o.tenant_id = $1",
            tenant,
        )
        statuses = dict(
            await conn.fetch(
                "SELECT id, status FROM fm_dispatch_instructions WHERE instruction_type = "
                "'dispatch'"
            )
        )
        return {"events": events, "fm": fm, "outbox": outbox, "statuses": statuses}
    finally:
        await conn.close()


async def drain(soak, expected_events: int) -> float:
    """Seconds until every instruction is commanded and every event processed (or the drain
    time is over)."""
    start = time.time()
    db_path = soak.run.dir / "agent" / "agent.db"
    want = {i.id for i in soak.run.issued}
    while time.time() - start < soak.opts.drain:
        inbox, dispatches = await asyncio.to_thread(agent_rows, db_path)
        commanded = {k for k, d in dispatches.items() if d["commanded_at"]}
        events = sum(1 for m in inbox if m["source"] == "ec" and m["processed_at"])
        if want <= commanded and events >= expected_events:
            break
        await asyncio.sleep(1.0)
    return time.time() - start


async def check(soak) -> Outcome:
    run = soak.run
    out = Outcome(run.opts, instructions=len(run.issued), refused=len(run.refused))
    out.problems += [f"refused by the platform: {r}" for r in run.refused[:5]]
    expected = len((await platform_rows(run.db.url, soak.fsp.id))["events"])
    out.drained_seconds = await drain(soak, expected)
    out.agent_metrics = await metrics(soak.agent_url)
    plat = await platform_rows(run.db.url, soak.fsp.id)
    inbox, dispatches = await asyncio.to_thread(agent_rows, run.dir / "agent" / "agent.db")
    processed, commanded_lines = log_counts(run.dir / "agent.log")
    by_subject: dict[str, list[dict]] = {}
    for m in inbox:
        by_subject.setdefault(m["subject"], []).append(m)

    def once(kind: str, ident: str) -> dict | None:
        got = by_subject.get(ident, [])
        if not got:
            out.problems.append(f"{kind} {ident}: never reached the agent")
            return None
        if len(got) > 1:
            out.problems.append(f"{kind} {ident}: stored {len(got)} times")
        if got[0]["processed_at"] is None:
            out.problems.append(f"{kind} {ident}: stored, never acted on")
        if processed[ident] != 1:
            out.problems.append(f"{kind} {ident}: processed {processed[ident]} times (log)")
        return got[0]

    cmd, acc = {}, {}
    for i in run.issued:
        m = once("instruction", i.id)
        d = dispatches.get(i.id)
        if m is not None and m["processed_at"]:
            acc[i.id] = m["processed_at"] - i.posted
        if d is not None and d["state"] == "refused" and "already completed" in (d["reason"] or ""):
            out.late += 1  # its window was over before the agent got to it: not lost, late
        elif d is None or not d["commanded_at"]:
            out.problems.append(f"instruction {i.id}: its asset was never commanded")
        else:
            cmd[i.id] = d["commanded_at"] - i.posted
        if commanded_lines[i.id] > 1:
            out.problems.append(f"instruction {i.id}: assets commanded {commanded_lines[i.id]}x")
        if plat["statuses"].get(i.id) not in ("accepted", "completed"):
            out.problems.append(f"instruction {i.id}: {plat['statuses'].get(i.id)} at the SO")
    for e in plat["events"]:
        m = once("event", e["id"])
        out.targets += len(json.loads(e["payload"]).get("targets") or [])
        if m is not None:
            out.event_latency.append(m["received_at"] - e["created_at"].timestamp())
    out.events = len(plat["events"])
    for row in plat["outbox"]:
        out.deliveries[f"outbox {row['status']}"] += 1
        if row["succeeded"] > 1:
            out.deliveries["delivered more than once"] += 1
    out.curve_run_seconds = [b - a for a, b, _ in run.curve_runs]
    _latency_figures(out, run, cmd, acc)
    return out


def _latency_figures(out: Outcome, run, cmd: dict[str, float], acc: dict[str, float]) -> None:
    o = run.opts
    issued = sorted(run.issued, key=lambda i: i.posted)
    out.commanded_per_minute = len(cmd) / o.minutes
    answers = [(i.answered - i.posted) * 1000 for i in issued]
    out.answer_p50, out.answer_p99 = statistics.median(answers), percentile(answers, 0.99)
    everything = [v * 1000 for v in cmd.values()]
    if everything:
        out.latency_all = (
            statistics.median(everything),
            percentile(everything, 0.99),
            max(everything),
        )
    first = min((f.start for f in run.faults), default=float("inf"))
    warm = run.t0 + min(5.0, o.minutes * 3)  # the first seconds (5 s, less in a short run)
    base = [cmd[i.id] for i in issued if i.id in cmd and warm <= i.posted < first]
    p99 = percentile(base, 0.99) if base else 1.0
    limit = max(3 * p99, p99 + 1.0)
    run_of = max(5, int(o.rate / 60))  # a second's worth of instructions
    for f in sorted(run.faults, key=lambda f: f.start):
        after = [i for i in issued if i.posted >= f.start]
        back = None
        for k, i in enumerate(after):
            if i.posted < f.end:
                continue
            window = after[k : k + run_of]  # (fewer at the end of the load)
            if all(cmd.get(j.id, 1e9) <= limit for j in window):
                back = k
                break
        if back is not None:
            since = after[: back + 1]
            done = [i.posted + cmd[i.id] for i in since if i.id in cmd]
            if len(done) == len(since):
                f.recovery = max(done) - f.start
            f.affected = len(since)
        out.faults.append(f)
    normal = [
        i
        for i in issued
        if i.posted >= warm
        and not any(f.start <= i.posted <= f.start + (f.recovery or 1e9) for f in out.faults)
    ]
    ms = [cmd[i.id] * 1000 for i in normal if i.id in cmd]
    if ms:
        out.latency_normal = (statistics.median(ms), percentile(ms, 0.99))
    ms = [acc[i.id] * 1000 for i in normal if i.id in acc]
    if ms:
        out.accept_normal = (statistics.median(ms), percentile(ms, 0.99))

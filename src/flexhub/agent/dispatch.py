"""Dispatch instructions: decide, answer, command, release, record.

- A new instruction (``dispatch_instruction.created`` or found pending by polling): its
  obligation's assets are asked what they can deliver (``allocation``); the instruction is
  accepted when the fleet can deliver it and rejected with the reason otherwise, and an asset
  whose driver says it is unavailable gets an availability variation declared for the window.
  An accepted instruction is stored with its split, and two jobs: command at the start,
  release at the end. One whose window is open already is commanded as soon as it is
  decided, before the acceptance goes out; if the platform refuses the acceptance, its assets
  are released at once. Between instructions, reconciliation asks the drivers too: an
  obligation with an unavailable asset gets a variation declared for the current hour.
- A stop (``dispatch_instruction.stopped``: the stop instruction, whose ``start`` is when it
  takes effect) moves the release to that time, or cancels an instruction not yet started.
- At the release each asset's delivered energy (meter difference, in the direction of the
  instruction) is recorded with the dispatch.
- Instructions overlap: what accepted instructions hold of an asset in a window is not offered
  to the next one, an asset's setpoint is the sum of its running instructions' shares, and a
  release leaves the others' share in force (delivered energy is then shared in proportion).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from decimal import Decimal

from flexhub.agent.allocation import AssetCapability, allocate, capability
from flexhub.agent.context import Context, from_ts
from flexhub.agent.holdings import Holdings
from flexhub.agent.inventory import device_model, storage_kwh
from flexhub.agent.observe import log_context
from flexhub.clients import ApiError
from flexhub.timeseries import ONE_HOUR, floor_hour
from flexhub.wire.flexmarket.assets import AssetOut
from flexhub.wire.flexmarket.dispatches import InstructionOut
from flexhub.wire.flexmarket.obligations import ObligationOut, VariationOut
from flexhub.wire.flexmarket.values import parse_duration, parse_instant

log = logging.getLogger(__name__)
MW_QUANTUM = Decimal("0.001")  # the Flex Market writes MW to three decimals


def _seconds(text: str | None) -> float | None:
    return float(parse_duration(text)) if text else None


ASSETS_TTL = 60.0  # seconds an obligation's asset list is reused
VARIATIONS_TTL = 10.0  # and its declared availability variations


class Dispatcher:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._assets: dict[str, tuple[float, dict[str, AssetOut]]] = {}
        self._variations: dict[str, tuple[float, list[VariationOut]]] = {}
        self._deciding = asyncio.Lock()
        self.holdings = Holdings(ctx.store)

    async def _put(self, **row) -> None:
        await self.ctx.store.put_dispatch(**row)
        await self.holdings.record(row["instruction_id"], row)

    async def _update(self, instruction_id: str, **values) -> None:
        await self.ctx.store.update_dispatch(instruction_id, **values)
        await self.holdings.record(instruction_id, values)

    async def _obligation_assets(self, obligation_id: str) -> dict[str, AssetOut]:
        cached = self._assets.get(obligation_id)
        if cached and time.monotonic() - cached[0] < ASSETS_TTL:
            return cached[1]
        assets = {a.id: a async for a in self.fm.iter_obligation_assets(obligation_id)}
        self._assets[obligation_id] = (time.monotonic(), assets)
        return assets

    async def _obligation_variations(self, obligation_id: str) -> list[VariationOut]:
        cached = self._variations.get(obligation_id)
        if cached and time.monotonic() - cached[0] < VARIATIONS_TTL:
            return cached[1]
        got = [v async for v in self.fm.iter_availability_variations(obligation_id)]
        self._variations[obligation_id] = (time.monotonic(), got)
        return got

    @property
    def fm(self):
        if self.ctx.fm is None:
            raise RuntimeError("the Flex Market API is not configured")
        return self.ctx.fm

    # --- deciding -----------------------------------------------------------------------------

    async def on_instruction(self, instruction: InstructionOut) -> str:
        if instruction.instruction_type == "stop":
            return await self.on_stop(instruction)
        known = await self.ctx.store.dispatch(instruction.id)
        if known is not None:
            start, end = parse_instant(instruction.start), parse_instant(instruction.end)
            taken = known["state"] in ("accepted", "running")
            if instruction.status == "pending" and (taken or known["state"] == "rejected"):
                # decided, and the agent stopped before the answer went out: answer now
                return await self._respond(instruction, taken, known["reason"] or "", start, end)
            if taken:  # a crash may have come between answer and plan
                await self._plan_jobs(instruction.id, start, end)
            return f"already {known['state']}"
        if instruction.status == "accepted":  # accepted before a crash: plan it again
            return await self._plan_accepted(instruction)
        if instruction.status != "pending":
            return f"nothing to do: the instruction is {instruction.status}"
        start, end = parse_instant(instruction.start), parse_instant(instruction.end)
        async with self._deciding:  # what one instruction takes, the next one sees as held
            plan = await self._decide(instruction, start, end)
        started = plan.feasible and start.timestamp() <= self.ctx.ts()
        if started:
            # its window is open: the assets move now and the answer follows (the platform's
            # round trip is not spent out of the window; a refused answer releases them)
            await self.start_window(instruction.id)
        return await self._respond(
            instruction, plan.feasible, plan.refusal(), start, end, started=started
        )

    async def _respond(
        self,
        instruction: InstructionOut,
        accept: bool,
        reason: str,
        start: datetime,
        end: datetime,
        *,
        started: bool = False,
    ) -> str:
        """Answer what was decided (and stored) through the API."""
        if not accept:
            await self._answer(instruction, accept=False, reason=reason)
            return f"rejected: {reason}"
        refused = await self._answer(instruction, accept=True)
        if refused:
            await self.end_window(instruction.id)  # when its open window was started already
            await self._update(instruction.id, state="refused", reason=refused)
            return f"the platform refused the acceptance: {refused}"
        await self._plan_jobs(instruction.id, start, end, started=started)
        return "accepted"

    async def _decide(self, instruction: InstructionOut, start: datetime, end: datetime):
        """Split the instruction over the fleet and store the decision (before answering, so
        that the next instruction sees what this one holds)."""
        capabilities = await self._capabilities(instruction, start, end)
        declared = await self._declared_kw(instruction.obligation_id, start, end)
        needed = float(Decimal(instruction.capacity)) * 1000
        plan = allocate(needed, instruction.need_direction, capabilities, declared)
        await self._put(
            instruction_id=instruction.id,
            obligation_id=instruction.obligation_id,
            start=start.timestamp(),
            end=end.timestamp(),
            state="accepted" if plan.feasible else "rejected",
            allocation=plan.setpoints if plan.feasible else {},
            delivered={},
            start_meter={},
            reason=None if plan.feasible else plan.refusal(),
        )
        if plan.feasible:
            log.info("split %s", {a: round(kw, 3) for a, kw in plan.setpoints.items()})
        return plan

    async def _plan_accepted(self, instruction: InstructionOut) -> str:
        """An instruction the platform shows accepted but the agent has no record of."""
        start, end = parse_instant(instruction.start), parse_instant(instruction.end)
        capabilities = await self._capabilities(instruction, start, end)
        needed = float(Decimal(instruction.capacity)) * 1000
        plan = allocate(needed, instruction.need_direction, capabilities)
        await self._put(
            instruction_id=instruction.id,
            obligation_id=instruction.obligation_id,
            start=start.timestamp(),
            end=end.timestamp(),
            state="accepted",
            allocation=plan.setpoints,
            delivered={},
            start_meter={},
            reason=None,
        )
        await self._plan_jobs(instruction.id, start, end)
        return "accepted earlier: planned"

    async def _plan_jobs(
        self, instruction_id: str, start: datetime, end: datetime, *, started: bool = False
    ) -> None:
        """The release at the end, and the command at the start unless ``started`` (commanded
        when it was decided)."""
        jobs = [("dispatch-end", "dispatch_end", end)]
        if not started:
            jobs.insert(0, ("dispatch-start", "dispatch_start", start))
        await self.ctx.store.add_jobs(
            [
                (f"{key}:{instruction_id}", kind, at.timestamp(), {"id": instruction_id})
                for key, kind, at in jobs
            ]
        )

    async def _answer(
        self, instruction: InstructionOut, *, accept: bool, reason: str = ""
    ) -> str | None:
        """Accept or reject; the platform's refusal (409: answered already, or expired)."""
        try:
            if accept:
                answered = await self.fm.accept_dispatch(instruction.id)
            else:
                answered = await self.fm.reject_dispatch(instruction.id, reason[:1000])
        except ApiError as exc:
            if exc.status != 409:
                raise
            # answered already: by this very answer when its first response was lost (the
            # database connection ended as it committed, and the client tried again), or by
            # a run of the agent that died before it marked the message processed
            wanted = "accepted" if accept else "rejected"
            if (await self.fm.get_dispatch(instruction.id)).status == wanted:
                log.info("the platform had the answer already (%s)", wanted)
                return None
            log.warning("the platform refused the answer: %s", exc.detail)
            return exc.detail
        self.ctx.metrics.actions.labels("accept" if accept else "reject").inc()
        if accept and answered.status != "accepted":
            return f"the instruction is {answered.status}"
        return None

    async def reject(self, instruction_id: str, reason: str) -> None:
        """An instruction the agent refuses to act on (a bad SO signature)."""
        try:
            await self.fm.reject_dispatch(instruction_id, reason[:1000])
            self.ctx.metrics.actions.labels("reject").inc()
            log.info("rejected: %s", reason)
        except ApiError as exc:
            if exc.status not in (404, 409):
                raise
            log.warning("the platform refused the rejection: %s", exc.detail)

    async def _capabilities(
        self, instruction: InstructionOut, start: datetime, end: datetime
    ) -> list[AssetCapability]:
        ctx = self.ctx
        hours = (end - start).total_seconds() / 3600
        now = ctx.now()
        lead = (start - now).total_seconds()
        assets = await self._obligation_assets(instruction.obligation_id)
        held = await self._held_kw(start, end, instruction.id)
        out = []
        unavailable: list[str] = []
        for flex_id in instruction.asset_ids or list(assets):
            remote = assets.get(flex_id)
            for spec in ctx.fleet.by_flex.get(flex_id, []):
                driver = ctx.fleet.driver(spec.asset_id)
                avail = await driver.availability(spec.asset_id)
                state = await driver.read_state(spec.asset_id)
                energy_in, energy_out = storage_kwh(device_model(spec, now, ctx.zone, state.soc))
                cap = capability(
                    spec.asset_id,
                    direction=instruction.need_direction,
                    available=avail.available and state.online,
                    import_kw=avail.max_import_kw,
                    export_kw=avail.max_export_kw,
                    limit_import_kw=spec.max_import_kw,
                    limit_export_kw=spec.max_export_kw,
                    hours=hours,
                    energy_in_kwh=energy_in,
                    energy_out_kwh=energy_out,
                    lead_s=max(lead, 0.0),
                    response_s=_seconds(remote.response_time) if remote else None,
                    min_runtime_s=_seconds(remote.min_runtime) if remote else None,
                    max_runtime_s=_seconds(remote.max_runtime) if remote else None,
                    unavailable_reason=avail.reason,
                    held_kw=held.get(spec.asset_id, 0.0),
                )
                if not avail.available:
                    unavailable.append(spec.asset_id)
                out.append(cap)
        if unavailable:
            await self._declare(instruction.obligation_id, start, end, out, unavailable)
        return out

    async def _held_kw(self, start: datetime, end: datetime, exclude: str) -> dict[str, float]:
        """kW each asset holds for other accepted instructions overlapping the window."""
        return await self.holdings.held_kw(start.timestamp(), end.timestamp(), exclude)

    async def _running_kw(self, asset_id: str, exclude: str) -> float:
        """The sum of the setpoints other running instructions give ``asset_id``."""
        return await self.holdings.running_kw(asset_id, exclude)

    async def watch(self, obligation: ObligationOut) -> None:
        """Between instructions: while a driver reports one of the obligation's assets
        unavailable, declare what the others can deliver, for the current hour (once an
        hour, as long as it lasts)."""
        if obligation.status not in ("awarded", "active"):
            return
        specs = [s for f in obligation.assets.flex for s in self.ctx.fleet.by_flex.get(f, [])]
        capabilities, down = [], []
        for spec in specs:
            avail = await self.ctx.fleet.driver(spec.asset_id).availability(spec.asset_id)
            if obligation.need_direction == "deficit":
                kw = min(avail.max_export_kw, spec.max_export_kw)
            else:
                kw = min(avail.max_import_kw, spec.max_import_kw)
            capabilities.append(AssetCapability(spec.asset_id, kw if avail.available else 0.0))
            if not avail.available:
                down.append(spec.asset_id)
        if down:
            start = floor_hour(self.ctx.now())
            with log_context(obligation=obligation.id):
                await self._declare(obligation.id, start, start + ONE_HOUR, capabilities, down)

    async def _declare(
        self,
        obligation_id: str,
        start: datetime,
        end: datetime,
        capabilities: list[AssetCapability],
        unavailable: list[str],
    ) -> None:
        """Tell the SO how much the obligation's assets can deliver while some are down."""
        available_mw = (Decimal(str(sum(c.kw for c in capabilities))) / 1000).quantize(MW_QUANTUM)
        key = f"variation:{obligation_id}:{start.timestamp()}:{','.join(sorted(unavailable))}"
        if not await self.ctx.store.add_jobs([(key, "noop", 0.0, {})]):
            return  # declared already
        await self.fm.declare_availability_variation(
            obligation_id,
            start=start,
            end=end,
            available_capacity=available_mw,
            reason=f"unavailable: {', '.join(sorted(unavailable))}",
        )
        self._variations.pop(obligation_id, None)
        self.ctx.metrics.actions.labels("availability_variation").inc()
        log.info("declared %s MW available (%s unavailable)", available_mw, ", ".join(unavailable))

    async def _declared_kw(
        self, obligation_id: str, start: datetime, end: datetime
    ) -> float | None:
        least: float | None = None
        for v in await self._obligation_variations(obligation_id):
            if parse_instant(v.start) < end and parse_instant(v.end) > start:
                kw = float(Decimal(v.available_capacity)) * 1000
                least = kw if least is None else min(least, kw)
        return least

    # --- stopping -----------------------------------------------------------------------------

    async def on_stop(self, stop: InstructionOut) -> str:
        original = stop.stops
        row = await self.ctx.store.dispatch(original) if original else None
        if row is None:
            return "stop of an instruction the agent does not run"
        at = parse_instant(stop.start)
        if row["state"] not in ("accepted", "running"):
            return f"stop: the instruction is {row['state']}"
        await self.ctx.store.cancel_jobs(f"dispatch-end:{original}")
        if at.timestamp() <= row["start"] and row["state"] == "accepted":
            await self.ctx.store.cancel_jobs(f"dispatch-start:{original}")
            await self._update(original, state="cancelled", end=at.timestamp())
            return "stopped before its start: cancelled"
        await self._update(original, end=at.timestamp())
        await self.ctx.store.add_jobs(
            [(f"dispatch-stop:{original}", "dispatch_end", at.timestamp(), {"id": original})]
        )
        return f"stop planned at {stop.start}"

    # --- the window ---------------------------------------------------------------------------

    async def start_window(self, instruction_id: str) -> None:
        row = await self.ctx.store.dispatch(instruction_id)
        if row is None or row["state"] != "accepted":
            return
        meters = {}
        for asset_id, kw in row["allocation"].items():
            meters[asset_id] = await self.ctx.fleet.net_import_kwh(asset_id, from_ts(row["start"]))
            total = kw + await self._running_kw(asset_id, instruction_id)
            result = await self.ctx.fleet.driver(asset_id).set_power(asset_id, total)
            self.ctx.metrics.actions.labels("set_power").inc()
            if not result.ok:
                log.warning("asset %s refused %.3f kW: %s", asset_id, total, result.reason)
        await self._update(
            instruction_id, state="running", start_meter=meters, commanded_at=time.time()
        )
        log.info("assets commanded: %s", ", ".join(row["allocation"]))

    async def end_window(self, instruction_id: str) -> None:
        row = await self.ctx.store.dispatch(instruction_id)
        if row is None or row["state"] != "running":
            return
        delivered = {}
        sign = -1.0  # deficit: energy fed in (less drawn) counts
        for asset_id, kw in row["allocation"].items():
            others = await self._running_kw(asset_id, instruction_id)
            await self.ctx.fleet.driver(asset_id).set_power(asset_id, others or None)
            self.ctx.metrics.actions.labels("release").inc()
            sign = -1.0 if kw < 0 else 1.0
            at = from_ts(row["end"])  # the window's end (or its stop)
            moved = await self.ctx.fleet.net_import_kwh(asset_id, at) - row["start_meter"].get(
                asset_id, 0.0
            )
            share = abs(kw) / (abs(kw) + abs(others))  # overlapping instructions share the meter
            delivered[asset_id] = round(max(sign * moved * share, 0.0), 6)
        await self._update(instruction_id, state="done", delivered=delivered)
        log.info("released; delivered kWh %s", delivered)

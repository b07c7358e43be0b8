"""What each obligated asset can deliver of a dispatch instruction, and the split of the
instruction's capacity across them (pure; ``dispatch`` gathers the inputs and acts).

Direction, from the asset's side (flex-market-v1.md): ``deficit`` = generate more / consume
less, so the asset feeds in (a negative setpoint); ``excess`` = consume more (a positive one).
An asset can deliver, over the window, the least of: its driver's availability now in that
direction, its configured limit less what other accepted instructions of the window hold,
what its stored energy allows over the window's hours, and
nothing at all when it is unavailable, cannot respond by the start, or the window is shorter
than its minimum or longer than its maximum runtime. The fleet is further capped by the
smallest availability the provider declared for the window. The split is proportional to what
each can deliver."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EPS = 1e-6


@dataclass(frozen=True)
class AssetCapability:
    asset_id: str
    kw: float  # what it can deliver over the window in the instruction's direction
    reason: str = ""  # why it is limited (or can deliver nothing)


@dataclass(frozen=True)
class Allocation:
    needed_kw: float
    deliverable_kw: float
    setpoints: dict[str, float] = field(default_factory=dict)  # asset id -> kW at the meter
    reasons: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return self.deliverable_kw + EPS >= self.needed_kw and self.needed_kw > 0

    def refusal(self) -> str:
        text = (
            f"the obligated assets can deliver {self.deliverable_kw / 1000:.3f} MW of the "
            f"{self.needed_kw / 1000:.3f} MW instructed"
        )
        return f"{text} ({'; '.join(self.reasons)})" if self.reasons else text


def capability(
    asset_id: str,
    *,
    direction: str,
    available: bool,
    import_kw: float,
    export_kw: float,
    limit_import_kw: float,
    limit_export_kw: float,
    hours: float,
    energy_in_kwh: float,
    energy_out_kwh: float,
    lead_s: float,
    response_s: float | None = None,
    min_runtime_s: float | None = None,
    max_runtime_s: float | None = None,
    unavailable_reason: str = "",
    held_kw: float = 0.0,
) -> AssetCapability:
    """What one asset can deliver; ``lead_s`` is the time from now to the window's start."""
    if not available:
        return AssetCapability(asset_id, 0.0, f"{asset_id}: unavailable ({unavailable_reason})")
    if response_s is not None and response_s > lead_s + EPS:
        return AssetCapability(
            asset_id, 0.0, f"{asset_id}: needs {response_s:.0f} s to respond, has {lead_s:.0f} s"
        )
    window_s = hours * 3600
    if min_runtime_s is not None and window_s + EPS < min_runtime_s:
        return AssetCapability(
            asset_id, 0.0, f"{asset_id}: window shorter than its minimum runtime"
        )
    if max_runtime_s is not None and window_s > max_runtime_s + EPS:
        return AssetCapability(asset_id, 0.0, f"{asset_id}: window longer than its maximum runtime")
    if direction == "deficit":
        kw, limit, energy = export_kw, limit_export_kw, energy_out_kwh
    else:
        kw, limit, energy = import_kw, limit_import_kw, energy_in_kwh
    kw = min(kw, limit)
    reason = ""
    if held_kw > EPS:
        kw = max(kw - held_kw, 0.0)
        reason = f"{asset_id}: {held_kw:.1f} kW held for other instructions in the window"
    if hours > 0 and (energy - held_kw * hours) / hours < kw:
        energy = max(energy - held_kw * hours, 0.0)
        kw = energy / hours
        reason = f"{asset_id}: stored energy allows {kw:.1f} kW over {hours:.2f} h"
    return AssetCapability(asset_id, max(kw, 0.0), reason)


def allocate(
    needed_kw: float,
    direction: str,
    capabilities: Sequence[AssetCapability],
    declared_cap_kw: float | None = None,
) -> Allocation:
    total = sum(c.kw for c in capabilities)
    reasons = [c.reason for c in capabilities if c.reason]
    if declared_cap_kw is not None and declared_cap_kw < total:
        total = declared_cap_kw
        reasons.append(f"declared availability {declared_cap_kw / 1000:.3f} MW for the window")
    if total + EPS < needed_kw or total <= 0:
        return Allocation(needed_kw, total, {}, reasons)
    sign = -1.0 if direction == "deficit" else 1.0
    whole = sum(c.kw for c in capabilities)
    setpoints = {c.asset_id: sign * needed_kw * c.kw / whole for c in capabilities if c.kw > EPS}
    return Allocation(needed_kw, total, setpoints, reasons)

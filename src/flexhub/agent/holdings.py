"""What the agent's accepted and running dispatch instructions hold of each asset, kept in
memory beside the store (the store stays the record: the index is read from it at its first
use, after a restart too, and every change the dispatcher writes is applied to both).

Deciding an instruction needs what the overlapping ones hold, and commanding or releasing an
asset needs the sum of the running ones' setpoints. Read from the store, each of those was a
query returning every active instruction with its allocation: at 1,000 instructions a minute,
hundreds of rows parsed per decision, and the agent fell behind. Here each is a pass over
small tuples in memory."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

ACTIVE = ("accepted", "running")  # the states in which an instruction holds its assets


class DispatchRows(Protocol):
    async def dispatches(self, states: Any = None, overlapping: Any = None) -> list[dict]: ...


@dataclass
class Holding:
    state: str
    start: float
    end: float
    allocation: dict[str, float] = field(default_factory=dict)


class Holdings:
    def __init__(self, store: DispatchRows) -> None:
        self._store = store
        self._rows: dict[str, Holding] | None = None
        self._loading = asyncio.Lock()

    async def _index(self) -> dict[str, Holding]:
        if self._rows is None:
            async with self._loading:
                if self._rows is None:
                    rows = await self._store.dispatches(states=ACTIVE)
                    self._rows = {
                        r["instruction_id"]: Holding(
                            r["state"], r["start"], r["end"], dict(r["allocation"] or {})
                        )
                        for r in rows
                    }
        return self._rows

    async def record(self, instruction_id: str, values: dict[str, Any]) -> None:
        """Apply what was just written to the store for ``instruction_id``."""
        rows = await self._index()
        held = rows.get(instruction_id)
        state = values.get("state", held.state if held else None)
        if state not in ACTIVE:
            rows.pop(instruction_id, None)
            return
        if held is None:
            if not {"start", "end"} <= values.keys():
                return  # not a whole row: the next load reads it from the store
            held = rows[instruction_id] = Holding(state, values["start"], values["end"])
        held.state = state
        held.start = values.get("start", held.start)
        held.end = values.get("end", held.end)
        if "allocation" in values:
            held.allocation = dict(values["allocation"] or {})

    async def held_kw(self, start: float, end: float, exclude: str) -> dict[str, float]:
        """kW each asset holds for the other active instructions overlapping ``(start, end)``."""
        held: dict[str, float] = {}
        for iid, h in (await self._index()).items():
            if iid != exclude and h.start < end and h.end > start:
                for asset_id, kw in h.allocation.items():
                    held[asset_id] = held.get(asset_id, 0.0) + abs(kw)
        return held

    async def running_kw(self, asset_id: str, exclude: str) -> float:
        """The sum of the setpoints the other running instructions give ``asset_id``."""
        return sum(
            h.allocation.get(asset_id, 0.0)
            for iid, h in (await self._index()).items()
            if iid != exclude and h.state == "running"
        )

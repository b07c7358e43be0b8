"""The in-memory index of what active dispatch instructions hold: read from the agent's store
at its first use (as after a restart), kept equal to what the store says as the dispatcher
writes, on both backends."""

from __future__ import annotations

import pytest

from flexhub.agent.holdings import Holdings
from flexhub.agent.inbox import AgentStore

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _row(iid: str, state: str, start: float, end: float, allocation: dict) -> dict:
    return dict(
        instruction_id=iid,
        obligation_id="o",
        start=start,
        end=end,
        state=state,
        allocation=allocation,
        delivered={},
        start_meter={},
        reason=None,
    )


async def _from_store(store: AgentStore, start: float, end: float, exclude: str):
    """The same figures computed from the store's rows alone."""
    held: dict[str, float] = {}
    for r in await store.dispatches(states=("accepted", "running"), overlapping=(start, end)):
        if r["instruction_id"] != exclude:
            for a, kw in r["allocation"].items():
                held[a] = held.get(a, 0.0) + abs(kw)
    running = sum(
        r["allocation"].get("b0", 0.0)
        for r in await store.dispatches(states=("running",))
        if r["instruction_id"] != exclude
    )
    return held, running


async def test_loaded_from_the_store_and_kept_equal_to_it(agent_db):
    store = await AgentStore(agent_db).open()
    try:
        for row in (
            _row("i1", "running", 0, 100, {"b0": -300.0, "b1": -100.0}),
            _row("i2", "accepted", 50, 150, {"b0": -200.0}),
            _row("i3", "done", 0, 100, {"b0": -999.0}),
            _row("i4", "rejected", 0, 100, {}),
        ):
            await store.put_dispatch(**row)
        holdings = Holdings(store)  # as after a restart: nothing in memory yet
        assert await holdings.held_kw(60, 90, exclude="x") == {"b0": 500.0, "b1": 100.0}
        assert await holdings.held_kw(120, 130, exclude="x") == {"b0": 200.0}
        assert await holdings.held_kw(60, 90, exclude="i1") == {"b0": 200.0}
        assert await holdings.running_kw("b0", exclude="x") == -300.0

        async def write(iid: str, **values) -> None:
            await store.update_dispatch(iid, **values)
            await holdings.record(iid, values)

        async def put(**row) -> None:
            await store.put_dispatch(**row)
            await holdings.record(row["instruction_id"], row)

        await write("i2", state="running", commanded_at=1.0)  # started
        await write("i1", end=70.0)  # stopped early
        await put(**_row("i5", "accepted", 80, 200, {"b1": -50.0}))  # a new decision
        await write("i5", state="refused", reason="expired")  # the platform said no
        await put(**_row("i6", "accepted", 10, 20, {"b0": -10.0}))
        await write("i6", state="cancelled", end=10.0)  # stopped before its start
        for window, exclude in (((60, 90), "x"), ((75, 90), "x"), ((0, 300), "i2"), ((0, 5), "x")):
            held, running = await _from_store(store, *window, exclude)
            assert await holdings.held_kw(*window, exclude=exclude) == held
            assert await holdings.running_kw("b0", exclude=exclude) == running
        assert await holdings.running_kw("b0", exclude="x") == -500.0
        await write("i1", state="done", delivered={"b0": 1.0})
        assert await holdings.running_kw("b0", exclude="x") == -200.0
        # a fresh index read from the store agrees with the one kept in memory
        again = Holdings(store)
        assert await again.held_kw(0, 300, exclude="x") == await holdings.held_kw(0, 300, "x")
    finally:
        await store.close()

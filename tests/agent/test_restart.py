"""The agent's durability: what the platform sends while the agent is down is found by
reconciliation when it starts again and acted on once, however many of the platform's retried
webhooks arrive as well; a message stored but not yet processed when the agent died is
processed by the next start."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from support.agent import (
    agent_config,
    dispatch_body,
    eventually,
    flex_market,
    metric,
    so_status,
    start_agent,
)
from support.fm import ok

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def metrics_text(agent) -> str:
    async with aiohttp.ClientSession() as http, http.get(agent.receiver_url + "/metrics") as r:
        return await r.text()


async def test_instructions_sent_while_down_are_processed_once(
    platform, make_partner, tmp_path, agent_db
):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    config = agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    agent, _ = await start_agent(config)  # registers its subscription
    await agent.stop()

    ids = []
    for _ in range(3):
        body = dispatch_body(obligation, "0.300", start_in=900)
        ids.append((await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"])
    # the platform tries to deliver meanwhile, and gives up (the tests' retries: ~2 s)
    await asyncio.sleep(5.0)

    agent, _ = await start_agent(config)  # same config, same inbox
    try:

        async def all_accepted():
            return all([(await so_status(so, i))["status"] == "accepted" for i in ids])

        await eventually(all_accepted)
        # reconciling again finds them all known: still one action each
        await agent.reconciler.step()
        await asyncio.sleep(0.5)
        text = await metrics_text(agent)
        assert metric(text, "agent_actions_total", kind="accept") == 3
        messages = [m for m in await agent.store.messages("fm") if m["subject"] in ids]
        assert sorted(m["subject"] for m in messages) == sorted(ids)
        assert all(m["processed_at"] is not None for m in messages)
        assert metric(text, "agent_reconciled_total", source="fm") == 3
        for i in ids:
            assert (await agent.store.dispatch(i))["state"] == "accepted"
    finally:
        await agent.stop()


async def test_stored_but_not_processed_survives_a_crash(
    platform, make_partner, tmp_path, agent_db
):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    config = agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    # the agent stores and answers, and dies before it acts
    agent, _ = await start_agent(config, process=False)
    body = dispatch_body(obligation, "0.500", start_in=900)
    iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

    async def stored():
        return [m for m in await agent.store.messages("fm") if m["subject"] == iid]

    (message,) = await eventually(stored)
    assert message["processed_at"] is None
    await agent.stop()
    assert (await so_status(so, iid))["status"] == "pending"

    agent, _ = await start_agent(config)
    try:

        async def accepted():
            return (await so_status(so, iid))["status"] == "accepted"

        await eventually(accepted)

        async def processed():
            got = await stored()
            return got if got[0]["processed_at"] is not None else None

        (message,) = await eventually(processed)
        assert message["outcome"] == "accepted"
        assert metric(await metrics_text(agent), "agent_actions_total", kind="accept") == 1
    finally:
        await agent.stop()


async def test_an_answer_the_platform_has_already_is_acted_on(
    platform, make_partner, tmp_path, agent_db
):
    """The soak's lost answer: the agent's accept reached the platform, its response did not
    (the platform's database connection ended under it), and the retry was refused with a 409
    "already accepted". The agent reads the instruction back and runs it, instead of recording
    a refusal the SO never made while the SO counts on the delivery."""
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    config = agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    agent, _ = await start_agent(config, process=False)
    body = dispatch_body(obligation, "0.500", start_in=1.0)
    iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

    async def stored():
        return [m for m in await agent.store.messages("fm") if m["subject"] == iid]

    await eventually(stored)
    await agent.stop()
    # the first answer, as it reached the platform
    await ok(await fsp.client.post(f"/dispatches/v1/{iid}/accept/"), 200)

    agent, _ = await start_agent(config)
    try:

        async def commanded():
            row = await agent.store.dispatch(iid)
            return row if row and row["commanded_at"] else None

        row = await eventually(commanded)
        assert row["state"] in ("running", "done")
        assert (await so_status(so, iid))["status"] == "accepted"
    finally:
        await agent.stop()

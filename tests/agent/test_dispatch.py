"""Dispatch instructions end to end: the SO issues through the platform, the platform delivers
a signed webhook to the agent on loopback, the agent splits the instruction over its assets,
answers through the API, commands the simulated assets and releases them at a stop."""

from __future__ import annotations

import asyncio

import pytest

from flexhub.signing import generate_private_key, public_key_pem
from flexhub.wire.flexmarket.values import parse_instant
from support.agent import (
    agent_config,
    dispatch_body,
    eventually,
    flex_market,
    power_commands,
    so_status,
    start_agent,
)
from support.fm import ok

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_accepted_split_stopped_and_recorded(platform, make_partner, tmp_path, agent_db):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0, 500.0])
    config = agent_config(
        platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory, tick_seconds=0.1
    )
    agent, driver = await start_agent(config)
    try:
        body = dispatch_body(obligation, "1.200")
        instruction = await ok(await so.client.post("/so/v1/dispatches/", json=body), 201)
        iid = instruction["id"]

        async def accepted():
            return (await so_status(so, iid))["status"] == "accepted"

        await eventually(accepted)
        # commanded at the start: 1.2 MW split by what each can deliver (1000 : 500), fed in
        await eventually(lambda: _commanded(driver, 2))
        assert sorted(power_commands(driver)) == [("battery-0", -800.0), ("battery-1", -400.0)]
        # the state is written once every asset has its command: wait for it, not for the commands

        async def running():
            return (await agent.store.dispatch(iid))["state"] == "running"

        await eventually(running)

        # the SO stops it early: the assets are released and what they delivered is recorded
        await asyncio.sleep(
            2.0
        )  # a window of some seconds, against which the commands' spread is small
        stop = await so.client.post(f"/so/v1/dispatches/{iid}/stop/", json={})
        assert stop.status_code in (200, 201), stop.text

        async def done():
            row = await agent.store.dispatch(iid)
            return row if row["state"] == "done" else None

        row = await eventually(done)
        released = [c for c in power_commands(driver) if c[1] is None]
        assert sorted(released) == [("battery-0", None), ("battery-1", None)]
        assert set(row["delivered"]) == {"battery-0", "battery-1"}
        assert all(kwh > 0 for kwh in row["delivered"].values())
        # twice the power, twice the energy (the same seconds of the same window)
        assert row["delivered"]["battery-0"] == pytest.approx(
            2 * row["delivered"]["battery-1"], rel=0.25
        )
        assert row["end"] < row["start"] + 3600
    finally:
        await agent.stop()


async def _commanded(driver, n: int) -> bool:
    return len(power_commands(driver)) >= n


async def test_an_open_window_is_commanded_before_the_answer(
    platform, make_partner, tmp_path, agent_db
):
    """An instruction whose window has begun moves the assets as soon as it is decided: the
    command is on record before the platform has the acceptance."""
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    agent, driver = await start_agent(
        agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    )
    try:
        body = dispatch_body(obligation, "0.600", start_in=-1.0)
        iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

        async def answered():
            got = await so_status(so, iid)
            return got if got["status"] != "pending" else None

        got = await eventually(answered)
        assert got["status"] == "accepted"
        row = await eventually(lambda: _row_commanded(agent, iid))
        assert row["state"] == "running"
        assert row["commanded_at"] < parse_instant(got["responded_at"]).timestamp()
        assert power_commands(driver) == [("battery-0", -600.0)]
    finally:
        await agent.stop()


async def _row_commanded(agent, iid: str):
    row = await agent.store.dispatch(iid)
    return row if row and row["commanded_at"] else None


async def test_a_refused_acceptance_releases_the_assets(platform, make_partner, tmp_path, agent_db):
    """The window is open, so the assets were commanded before the answer; the platform
    refuses the acceptance (the instruction was rejected meanwhile): the assets are released
    at once and the instruction is on record as refused, not running."""
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    config = agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    agent, _ = await start_agent(config, process=False)
    body = dispatch_body(obligation, "0.500", start_in=-1.0)
    iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

    async def stored():
        return [m for m in await agent.store.messages("fm") if m["subject"] == iid]

    await eventually(stored)
    await agent.stop()
    await ok(
        await fsp.client.post(f"/dispatches/v1/{iid}/reject/", json={"reason": "elsewhere"}), 200
    )

    agent, driver = await start_agent(config)
    try:

        async def refused():
            row = await agent.store.dispatch(iid)
            return row if row and row["state"] == "refused" else None

        row = await eventually(refused)
        assert row["commanded_at"]
        assert power_commands(driver) == [("battery-0", -500.0), ("battery-0", None)]
        assert (await so_status(so, iid))["status"] == "rejected"
    finally:
        await agent.stop()


async def test_rejected_when_the_fleet_cannot_deliver(platform, make_partner, tmp_path, agent_db):
    so, fsp, obligation, inventory = await flex_market(make_partner, [400.0, 300.0])
    agent, driver = await start_agent(
        agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    )
    try:
        body = dispatch_body(obligation, "1.000", start_in=600)
        instruction = await ok(await so.client.post("/so/v1/dispatches/", json=body), 201)

        async def answered():
            got = await so_status(so, instruction["id"])
            return got if got["status"] != "pending" else None

        got = await eventually(answered)
        assert got["status"] == "rejected"
        assert "0.700 MW of the 1.000 MW" in got["reason"]
        assert power_commands(driver) == []
    finally:
        await agent.stop()


async def test_so_signatures(platform, make_partner, tmp_path, agent_db):
    so_key, stranger = generate_private_key(), generate_private_key()
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    config = agent_config(
        platform,
        fsp,
        tmp_path / "a",
        database_url=agent_db,
        assets=inventory,
        so_public_keys=[public_key_pem(so_key)],
        require_so_signature=True,
    )
    agent, driver = await start_agent(config)
    try:
        signed = dispatch_body(obligation, "0.500", start_in=600, key=so_key)
        forged = dispatch_body(obligation, "0.500", start_in=600, key=stranger)
        unsigned = dispatch_body(obligation, "0.500", start_in=600)
        ids = {}
        for name, body in (("signed", signed), ("forged", forged), ("unsigned", unsigned)):
            ids[name] = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

        async def all_answered():
            got = {n: await so_status(so, i) for n, i in ids.items()}
            return got if all(g["status"] != "pending" for g in got.values()) else None

        got = await eventually(all_answered)
        assert got["signed"]["status"] == "accepted"
        assert got["forged"]["status"] == "rejected"
        assert "SO signature" in got["forged"]["reason"]
        assert got["unsigned"]["status"] == "rejected"
        assert "SO signature" in got["unsigned"]["reason"]
        # the refused ones never reached the inbox, nor the assets
        subjects = {m["subject"] for m in await agent.store.messages()}
        assert ids["signed"] in subjects
        assert ids["forged"] not in subjects and ids["unsigned"] not in subjects
        assert await agent.store.dispatch(ids["forged"]) is None
        assert power_commands(driver) == []  # the signed one starts in ten minutes
    finally:
        await agent.stop()


async def test_unavailable_asset_declared_and_left_out(platform, make_partner, tmp_path, agent_db):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0, 500.0])
    agent, driver = await start_agent(
        agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    )
    try:
        driver.set_available("battery-0", False, "inverter fault")
        body = dispatch_body(obligation, "0.400", start_in=2)
        iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

        async def accepted():
            return (await so_status(so, iid))["status"] == "accepted"

        await eventually(accepted)
        await eventually(lambda: _commanded(driver, 1))
        assert power_commands(driver) == [("battery-1", -400.0)]
        variations = await ok(await so.client.get("/so/v1/availability-variations/"))
        mine = [
            v
            for v in variations["results"]
            if v["obligation_id"] == obligation["id"] and v["start"] == body["start"]
        ]
        assert len(mine) == 1
        assert mine[0]["available_capacity"] == "0.500"
        assert "battery-0" in mine[0]["reason"]
        assert (mine[0]["start"], mine[0]["end"]) == (body["start"], body["end"])
    finally:
        await agent.stop()


async def test_overlapping_instructions_share_the_fleet(platform, make_partner, tmp_path, agent_db):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0, 500.0])
    agent, _ = await start_agent(
        agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    )
    try:
        answers = {}
        for name, capacity in (("first", "1.200"), ("too much", "0.500"), ("fits", "0.300")):
            body = dispatch_body(obligation, capacity, start_in=900)
            iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

            async def answered(iid=iid):
                got = await so_status(so, iid)
                return got if got["status"] != "pending" else None

            answers[name] = await eventually(answered)  # one after the other
        assert answers["first"]["status"] == "accepted"
        assert answers["too much"]["status"] == "rejected"
        assert "held for other instructions" in answers["too much"]["reason"]
        assert "0.300 MW of the 0.500 MW" in answers["too much"]["reason"]
        assert answers["fits"]["status"] == "accepted"
        fits = await agent.store.dispatch(answers["fits"]["id"])
        assert sum(fits["allocation"].values()) == pytest.approx(-300.0)
    finally:
        await agent.stop()


async def test_unavailable_between_instructions_is_declared(
    platform, make_partner, tmp_path, agent_db
):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0, 500.0])
    config = agent_config(
        platform,
        fsp,
        tmp_path / "a",
        database_url=agent_db,
        assets=inventory,
        reconcile_seconds=0.5,
    )
    agent, driver = await start_agent(config)
    try:
        driver.set_available("battery-1", False, "tripped")

        async def declared():
            got = await ok(await so.client.get("/so/v1/availability-variations/"))
            return [v for v in got["results"] if v["obligation_id"] == obligation["id"]]

        (variation,) = await eventually(declared)
        assert variation["available_capacity"] == "1.000"
        assert "battery-1" in variation["reason"]
        await asyncio.sleep(1.5)  # a few more rounds: still one declaration for the hour
        assert len(await declared()) == 1
    finally:
        await agent.stop()

"""Both dashboards in a real browser after a short demo day: the platform's (signed in as the
demo's admin) and the agent's; their tables and plots show that day's data, consistent with
what the APIs and the agent's store say. With ``FLEXHUB_SCREENSHOTS`` naming a directory, a
screenshot of each is kept there (the README shows ``docs/agent-dashboard.png``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from support.browser import CHROMIUM_ARGS, chromium_path
from support.demo import played_day

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def day(tmp_path_factory):
    async for got in played_day(tmp_path_factory.mktemp("demo-web"), size=12, seed=3):
        yield got


async def _shot(page, name: str) -> None:
    shots = os.environ.get("FLEXHUB_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(shots) / name), full_page=True)


async def test_both_dashboards_show_the_day(day):
    played, got = day
    executable = chromium_path()
    admin = played.partners["admin"]
    agent_url = played.agent.receiver_url + "/dashboard"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1200})

            # the platform: the day's instructions, as the SO's API lists them
            await page.goto(f"{played.hub.base_url}/dashboard/login")
            await page.fill("input[name=client_id]", admin.client_id)
            await page.fill("input[name=client_secret]", admin.client_secret)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/dashboard/")
            await page.wait_for_selector("#plot-instructions[data-drawn=true] svg")
            total = int((await page.inner_text("#n-instructions")).replace(",", ""))
            issued = [i.id for i in got.instructions]
            assert total >= len(issued)
            await _shot(page, "platform-dashboard.png")
            await page.goto(f"{played.hub.base_url}/dashboard/dispatches")
            rows = page.locator("#dispatches tbody tr[data-id]")
            ids = {await rows.nth(i).get_attribute("data-id") for i in range(await rows.count())}
            assert set(issued) <= ids

            # the agent: its fleet, dispatches, a scheduled resource and its inbox
            await page.goto(agent_url + "/")
            await page.wait_for_selector("#plot-states[data-drawn=true] svg")
            assert int(await page.inner_text("#n-assets")) == len(played.agent.fleet.specs)
            assert int(await page.inner_text("#n-scheduled")) == len(played.agent.ctx.schedules)
            await _shot(page, "agent-dashboard.png")

            await page.goto(agent_url + "/dispatches")
            stored = {d["instruction_id"]: d for d in await played.agent.store.dispatches()}
            cells = page.locator("#dispatches tbody tr[data-id]")
            assert await cells.count() == len(stored)
            for k in range(await cells.count()):
                row = cells.nth(k)
                iid = await row.get_attribute("data-id")
                kwh = float(await row.locator("td[data-kwh]").get_attribute("data-kwh"))
                assert kwh == pytest.approx(sum(stored[iid]["delivered"].values()))

            asset_id, (event_id, schedule, _) = sorted(played.agent.ctx.schedules.items())[0]
            await page.goto(f"{agent_url}/resources/{asset_id}")
            await page.wait_for_selector("#plot-schedule[data-drawn=true] svg")
            assert await page.locator("#schedule tbody tr").count() == len(schedule.kw)
            assert event_id in await page.content()
            curve = next(c for c in got.curves if c.event_id == event_id)
            assert len(schedule.kw) == len(curve.hours)

            await page.goto(agent_url + "/inbox")
            messages = await played.agent.store.messages()
            pager = page.locator(".pager").first
            assert int(await pager.get_attribute("data-total")) == len(messages)
            shown = page.locator("#inbox tbody tr[data-id]")
            assert await shown.count() == min(len(messages), 50)
            first_time = page.locator("#inbox time").first
            assert "UTC" in (await first_time.get_attribute("title"))  # UTC on hover
        finally:
            await browser.close()

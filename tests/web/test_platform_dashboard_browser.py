"""The operator dashboard in a real browser: sign in through the form, and the tables and plots
show the day's data, consistent with what the APIs say. A screenshot of the overview is kept
under docs/ when ``FLEXHUB_SCREENSHOTS`` names a directory."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import async_playwright

from support.browser import CHROMIUM_ARGS, chromium_path
from support.ec_simulation import household, simulate
from support.fm import market, ok


async def test_the_overview_and_dispatches_in_chromium(platform, make_partner, backend):
    if backend.name != "sqlite":
        return  # the pages read the same tables on both backends; one browser run is enough
    executable = chromium_path()
    admin = await make_partner(role="admin")
    m = await market(make_partner)
    issued = [await ok(await m.dispatch(), 201) for _ in range(3)]
    ec = await make_partner()
    await household(ec)
    event = await simulate(ec, "pricecurve", {"priceArea": "NO1"})
    listed = await ok(await m.so.client.get("/so/v1/dispatches/?limit=1000"))

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1400})
            await page.goto(f"{platform.base_url}/dashboard/")
            assert page.url.endswith("/dashboard/login")
            await page.fill("input[name=client_id]", admin.client_id)
            await page.fill("input[name=client_secret]", admin.client_secret)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/dashboard/")
            for plot in ("plot-instructions", "plot-outbox", "plot-price-curve"):
                await page.wait_for_selector(f"#{plot}[data-drawn=true] svg", timeout=15_000)
            bars = await page.locator("#plot-price-curve .bars .point").count()
            assert bars == len(event["payload"]["priceCurveDelta"]["points"])
            total = await page.inner_text("#n-instructions")
            assert int(total.replace(",", "")) >= listed["count"] >= len(issued)
            first_time = page.locator("time").first
            assert "UTC" in (await first_time.get_attribute("title"))  # UTC on hover
            shots = os.environ.get("FLEXHUB_SCREENSHOTS")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                await page.screenshot(
                    path=str(Path(shots) / "platform-dashboard.png"), full_page=True
                )

            await page.goto(f"{platform.base_url}/dashboard/dispatches")
            rows = page.locator("#dispatches tbody tr[data-id]")
            ids = {await rows.nth(i).get_attribute("data-id") for i in range(await rows.count())}
            assert {d["id"] for d in issued} <= ids
            await page.click(f"text={issued[0]['so_reference']}")
            await page.wait_for_selector("#notifications")
            assert issued[0]["id"] in await page.content()
        finally:
            await browser.close()

"""What the contract promises about webhook delivery beyond the envelope: the retry ladder
(at least 6 attempts over at least an hour, jitter included) and the SO's view of how the
webhooks about its instruction are being delivered (``GET /so/v1/dispatches/{id}/``)."""

from __future__ import annotations

import asyncio

from flexhub.config import load_settings
from support.fm import market, ok


def test_default_retry_ladder_spans_an_hour_even_with_the_shortest_jitter():
    policy = load_settings(env={}).fm_retry
    assert policy.max_attempts >= 6
    waits = range(1, policy.max_attempts)  # the waits after attempts 1 .. n-1
    shortest = sum(policy.delay(n, 0.0) for n in waits)  # rand 0: every delay cut by jitter
    longest = sum(policy.delay(n, 0.999999) for n in waits)
    assert shortest >= 3600, shortest
    assert longest < 4 * 3600, longest  # and gives up within a few hours


async def _so_view(m, instruction_id: str, until) -> dict:
    for _ in range(100):
        view = await ok(await m.so.client.get(f"/so/v1/dispatches/{instruction_id}/"))
        if until(view["webhook_deliveries"]):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(view)


async def test_the_so_sees_how_the_webhooks_about_its_instruction_went(make_partner, receiver):
    m = await market(make_partner)
    sub = await ok(
        await m.fsp.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": receiver.url, "events": ["dispatch_instruction.created"]},
        ),
        201,
    )
    receiver.statuses = [500]  # the first attempt fails, the retry succeeds
    d = await ok(await m.dispatch(), 201)
    view = await _so_view(m, d["id"], lambda ds: ds and ds[0]["status"] == "delivered")
    (delivery,) = view["webhook_deliveries"]
    assert delivery["event"] == "dispatch_instruction.created" and delivery["attempts"] == 2
    assert delivery["completed_at"].endswith("Z") and delivery["next_attempt_at"] is None
    log = await ok(
        await m.fsp.client.get("/webhook/v1/deliveries/", params={"subscription_id": sub["id"]})
    )
    assert {e["event_id"] for e in log["results"]} == {delivery["event_id"]}
    # the provider's subscription stays its own business
    assert sub["id"] not in str(view) and receiver.url not in str(view)
    # the stop is another instruction, with its own (here: none wanted) deliveries
    stop = await ok(await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/"), 201)
    stop_view = await ok(await m.so.client.get(f"/so/v1/dispatches/{stop['id']}/"))
    assert stop_view["webhook_deliveries"] == []
    assert (
        len(
            (await ok(await m.so.client.get(f"/so/v1/dispatches/{d['id']}/")))["webhook_deliveries"]
        )
        == 1
    )


async def test_a_failing_receiver_shows_as_pending_then_failed(make_partner, receiver):
    m = await market(make_partner)
    receiver.default = 503
    await ok(
        await m.fsp.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": receiver.url, "events": ["dispatch_instruction.created"]},
        ),
        201,
    )
    d = await ok(await m.dispatch(), 201)
    view = await _so_view(m, d["id"], lambda ds: ds and ds[0]["attempts"] >= 1)
    assert view["webhook_deliveries"][0]["status"] in ("pending", "failed")
    view = await _so_view(m, d["id"], lambda ds: ds and ds[0]["status"] == "failed")
    (delivery,) = view["webhook_deliveries"]
    assert delivery["attempts"] == 4 and delivery["next_attempt_at"] is None  # the tests' policy

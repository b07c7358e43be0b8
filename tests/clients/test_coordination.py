"""CoordinationClient against the platform on loopback: every area of the document, both
token behaviours (refresh before expiry, one re-authentication after a revocation), paging
through several pages, and error bodies."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from flexhub import signing
from flexhub.clients import ApiError, CoordinationClient, collect
from flexhub.wire.coordination.events import GetEventResponse, PriceCurvePayload
from flexhub.wire.coordination.locations import GetLocationResponse
from flexhub.wire.coordination.users import GetUserResponse
from support.clients import ManualClock, ec_url, new_partner, revoke, until
from support.ec_assets import SANDBOX_1
from support.platform import free_port


@pytest.fixture
async def partner(client_db):
    return await new_partner(client_db)


def client_for(platform, creds, **kw) -> CoordinationClient:
    return CoordinationClient(
        ec_url(platform),
        client_id=creds.client_id,
        client_secret=creds.secret,
        token_url=platform.base_url + "/connect/token",
        **kw,
    )


async def test_users_page_through_several_pages(client_platform, partner):
    async with client_for(client_platform, partner) as ec:
        made = await ec.create_users([f"u-{n}" for n in range(5)])
        assert [u.userId for u in made] == [f"u-{n}" for n in range(5)]
        assert (await ec.create_user("u-5")).userId == "u-5"
        users = await collect(ec.iter_users(page_size=2))
        assert all(isinstance(u, GetUserResponse) for u in users)
        assert sorted(u.userId for u in users) == [f"u-{n}" for n in range(6)]
        # three GETs of two users each (plus the token and the two POSTs)
        assert ec.api.sent == 1 + 2 + 3
        await ec.delete_user("u-5")
        with pytest.raises(ApiError) as err:
            await ec.get_user("u-5")
        assert err.value.status == 404
        assert isinstance(err.value.body, str) and err.value.detail == err.value.body


async def test_locations_resources_and_program(client_platform, partner):
    async with client_for(client_platform, partner) as ec:
        await ec.create_user("home owner")  # ids may hold spaces: quoted in the path
        location = await ec.create_location(
            "home owner",
            {
                "locationId": "loc-1",
                "meterPointIds": ["707057500012345678"],
                "coordinates": SANDBOX_1,  # in the sandbox neighbourhood: eligible
            },
        )
        assert isinstance(location, GetLocationResponse)
        assert location.meterPointIds == ["707057500012345678"]
        batch = await ec.create_locations([{"userId": "home owner", "locationId": "loc-2"}])
        assert [loc.locationId for loc in batch] == ["loc-2"]
        updated = await ec.update_location("home owner", "loc-2", {"locationType": "Residential"})
        assert updated.locationType == "Residential"
        replaced = await ec.replace_location(
            "home owner", "loc-2", {"locationId": "loc-2", "locationType": "Commercial"}
        )
        assert replaced.locationType == "Commercial"
        listed = await ec.list_locations("home owner")
        assert sorted(loc.locationId for loc in listed) == ["loc-1", "loc-2"]

        tank = await ec.create_location_resource("home owner", "loc-1", "tank", "HotWaterTank")
        car = await ec.create_vehicle("home owner", "car")
        assert (tank.locationId, car.locationId) == ("loc-1", None)
        assert [r.resourceId for r in await ec.list_location_resources("home owner", "loc-1")] == [
            "tank"
        ]
        mine = await ec.list_user_resources("home owner")
        assert sorted(r.resourceId for r in mine) == ["car", "tank"]
        assert (await ec.get_resource("car")).resourceType == "Vehicle"
        await ec.delete_resource("car")
        await ec.delete_location("home owner", "loc-2")

        await ec.create_user("nowhere")  # no location: not eligible
        with pytest.raises(ApiError) as err:
            await ec.create_enrollment("nowhere")
        assert err.value.status == 400 and "not eligible" in err.value.body
        enrolled = await ec.create_enrollment("home owner")
        assert enrolled.isEnrolled and enrolled.userId == "home owner"
        assert (await ec.get_enrollment("home owner")).enrollmentId == enrolled.enrollmentId
        eligibility = await ec.get_user_eligibility("home owner")
        assert eligibility.userId == "home owner"
        meter = await ec.get_meter_eligibility("707057500012345678")
        assert meter.meterPointId == "707057500012345678"
        eligible = [u.userId async for u in ec.iter_eligible_users()]
        assert ("home owner" in eligible) == eligibility.isEligible
        compensation = await ec.get_compensation("home owner")
        assert compensation.userId == "home owner"
        await ec.delete_enrollment("home owner")
        assert not (await ec.get_enrollment("home owner")).isEnrolled


def _curve_request(hours: int = 24) -> dict:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    points = [
        {"price": 0.1 * (h % 5) - 0.2, "timestamp": (start + timedelta(hours=h)).isoformat()}
        for h in range(hours)
    ]
    return {
        "targets": [{"resourceId": "tank", "locationId": "loc-1"}],
        "priceCurveDelta": {
            "points": points,
            "energyUnit": "kWh",
            "currency": "NOK",
            "resolution": "01:00:00",
        },
        "priceArea": "NO1",
    }


async def test_events_page_and_a_report_is_accepted(client_platform, partner):
    async with client_for(client_platform, partner) as ec:
        await ec.create_user("u")
        await ec.create_location("u", {"locationId": "loc-1"})
        await ec.create_location_resource("u", "loc-1", "tank", "HotWaterTank")
        simulated = [
            (await ec.simulate_price_curve(_curve_request())).simulatedEvent for _ in "abc"
        ]
        events = await collect(ec.iter_events(page_size=2))
        assert all(isinstance(e, GetEventResponse) for e in events)
        assert {e.id for e in simulated} <= {e.id for e in events}
        one = await ec.get_event(simulated[0].id)
        assert isinstance(one.payload, PriceCurvePayload)
        points = one.payload.priceCurveDelta.points
        report = await ec.send_report(
            {
                "eventId": one.id,
                "payloads": [
                    {
                        "payloadType": "EnergyUsage",
                        "resourceId": "tank",
                        "locationId": "loc-1",
                        "resolution": "01:00:00",
                        "points": [
                            {"timestamp": p.timestamp, "kiloWattHours": 1.5} for p in points
                        ],
                    }
                ],
            }
        )
        assert report.eventId == one.id


async def test_webhooks_ensure_leaves_one_and_logs_read_back(client_platform, partner, receiver):
    async with client_for(client_platform, partner) as ec:
        first = await ec.ensure_webhook(receiver.url, ["PriceCurveCreated"], secret="s3cret-one")
        again = await ec.ensure_webhook(
            receiver.url, ["PriceCurveCreated", "LocationLPCRequested"], secret="s3cret-one"
        )
        assert again.webhookId == first.webhookId
        assert sorted(again.notificationTypes) == ["LocationLPCRequested", "PriceCurveCreated"]
        # a second webhook for the same URL (made behind the client's back) is folded away
        await ec.create_webhook(receiver.url, ["PriceCurveCreated"], secret="s3cret-two")
        kept = await ec.ensure_webhook(receiver.url, ["PriceCurveCreated"], secret="s3cret-one")
        same_url = [w for w in await ec.list_webhooks() if w.webhookUrl == receiver.url]
        assert [w.webhookId for w in same_url] == [kept.webhookId]
        assert kept.notificationTypes == ["PriceCurveCreated"] and kept.enabled

        await ec.set_webhook_enabled(kept.webhookId, False)
        assert not (await ec.get_webhook(kept.webhookId)).enabled
        patched = await ec.update_webhook(kept.webhookId, {"enabled": True, "name": "agent"})
        assert patched.enabled and patched.name == "agent"
        replaced = await ec.replace_webhook(
            kept.webhookId,
            {"webhookUrl": receiver.url, "notificationTypes": ["PriceCurveCreated"], "name": "a2"},
        )
        assert replaced.name == "a2" and replaced.notificationTypes == ["PriceCurveCreated"]

        await ec.create_user("u")
        await ec.create_location("u", {"locationId": "loc-1"})
        await ec.create_location_resource("u", "loc-1", "tank", "HotWaterTank")
        # ensured again without a secret: the stored one stays and signs the deliveries
        assert (await ec.ensure_webhook(receiver.url, ["PriceCurveCreated"])).webhookId == (
            kept.webhookId
        )
        await ec.simulate_price_curve(_curve_request())
        [delivery] = await receiver.wait_for(1)
        signing.verify_payload_signature(
            "s3cret-one", delivery.body, delivery.headers.get(signing.PAYLOAD_SIGNATURE_HEADER)
        )
        logs = await until(lambda: collect(ec.iter_webhook_logs(kept.webhookId, page_size=1)))
        assert logs and logs[0].webhookId == kept.webhookId
        detail = await ec.get_webhook_log(logs[0].notificationId)
        assert detail.webhookNotificationLog.notificationId == logs[0].notificationId
        await ec.delete_webhook(kept.webhookId)
        assert kept.webhookId not in {w.webhookId for w in await ec.list_webhooks()}


async def test_token_is_refreshed_before_it_expires(client_platform, partner):
    clock = ManualClock()
    async with client_for(client_platform, partner, wall_clock=clock) as ec:
        await ec.create_user("u")
        first = ec.api.tokens.current
        assert first is not None and first.lifetime == timedelta(seconds=3600)
        clock.advance(3600 - 90)  # still more than the margin (a minute) left: kept
        await ec.get_user("u")
        assert ec.api.tokens.current is first
        clock.advance(45)  # 45 s left: fetched again before use
        await ec.get_user("u")
        assert ec.api.tokens.fetches == 2 and ec.api.tokens.current is not first
        assert ec.api.reauthentications == 0  # never refused: refreshed ahead


async def test_a_revoked_token_is_replaced_once(client_platform, client_db, partner):
    async with client_for(client_platform, partner) as ec:
        await ec.create_user("u")
        await revoke(client_db, client_platform, partner.partner_id)
        assert (await ec.get_user("u")).userId == "u"
        assert ec.api.reauthentications == 1 and ec.api.tokens.fetches == 2


async def test_wrong_credentials_surface_the_oauth_error(client_platform, partner):
    creds = type(partner)(partner.partner_id, partner.client_id, "not-the-secret")
    async with client_for(client_platform, creds) as ec:
        with pytest.raises(ApiError) as err:
            await ec.get_user("u")
    assert err.value.status == 401
    assert err.value.body["error"] == "invalid_client"
    assert "not-the-secret" not in str(err.value)


async def test_bad_input_surfaces_the_documented_error_body(client_platform, partner):
    async with client_for(client_platform, partner) as ec:
        await ec.create_user("u")
        with pytest.raises(ApiError) as err:
            await ec.create_user("u")  # exists
        assert err.value.status in (400, 409) and isinstance(err.value.body, str)
        with pytest.raises(ApiError) as err:
            await ec.create_webhook("not a url", ["PriceCurveCreated"], secret="x" * 16)
        problem = err.value.body
        assert err.value.status == 400 and problem["status"] == 400  # problem+json
        assert problem["detail"] in err.value.detail


async def test_credentials_and_tokens_stay_out_of_the_logs(client_platform, partner, caplog):
    caplog.set_level(logging.DEBUG)
    async with client_for(client_platform, partner) as ec:
        await ec.create_user("u")
        token = ec.api.tokens.current.value
        await ec.get_user("u")
        shown = repr(ec.api.tokens.source) + repr(ec.api.tokens.current)
    assert "/energy-coordination/v1/users" in caplog.text  # the requests are logged ...
    for secret in (partner.secret, token):  # ... without what would let someone in
        assert secret not in caplog.text and secret not in shown


async def test_concurrent_first_calls_share_one_token(client_platform, partner):
    async with client_for(client_platform, partner) as ec:
        pages = await asyncio.gather(*(collect(ec.iter_users()) for _ in range(20)))
        assert all(page == [] for page in pages)
        assert ec.api.tokens.fetches == 1


class TokenHost:
    """An identity server on another host and path than the API (as Volue's is): it answers
    form-encoded client-credentials requests by asking the platform's token endpoint."""

    def __init__(self, platform) -> None:
        self.platform = platform
        self.forms: list[dict[str, str]] = []
        self.content_types: list[str] = []

    async def _token(self, request: web.Request) -> web.Response:
        self.content_types.append(request.content_type)
        form = dict(await request.post())
        self.forms.append(form)
        async with aiohttp.ClientSession() as session:
            upstream = self.platform.base_url + "/connect/token"
            async with session.post(upstream, data=form) as answer:
                return web.json_response(await answer.json(), status=answer.status)

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/identity/oauth2/token", self._token)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}/identity/oauth2/token"

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()


async def test_the_token_endpoint_on_another_host(client_platform, partner):
    host = TokenHost(client_platform)
    async with (
        host as token_url,
        CoordinationClient(
            ec_url(client_platform),
            client_id=partner.client_id,
            client_secret=partner.secret,
            token_url=token_url,
        ) as ec,
    ):
        assert (await ec.create_user("u")).userId == "u"
        assert (await ec.get_user("u")).userId == "u"
    assert host.content_types == ["application/x-www-form-urlencoded"]
    assert host.forms == [
        {
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": partner.secret,
        }
    ]

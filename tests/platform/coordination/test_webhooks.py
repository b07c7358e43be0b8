"""Energy Coordination webhook subscriptions: create, read, replace, patch, enable, delete,
validation (problem+json naming the field) and tenant isolation. Delivery is in test_delivery."""

from __future__ import annotations

from support.ec_schemas import check

PROBLEM = "application/problem+json"
ALL_TYPES = [
    "PriceCurveCreated",
    "UserEligibilityUpdated",
    "LocationLPCRequested",
    "ResourceLPCRequested",
    "LPCReservationCreated",
]


async def create(client, **body) -> dict:
    body.setdefault("webhookUrl", "https://example.com/hook")
    r = await client.post("/webhooks", json=body)
    assert r.status_code == 201, r.text
    return check("GetWebhookResponse", r.json())


def problem(r, field: str) -> dict:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = check("HttpValidationProblemDetails", r.json())
    assert body["status"] == 400
    assert field in body["errors"], body
    return body


async def test_create_and_read_a_webhook(ec):
    hook = await create(
        ec.client,
        name="Example Webhook",
        webhookSecret="CMJ0PqrOtGIat7j",
        webhookUrl="https://example.com/api",
        notificationTypes=["PriceCurveCreated", "UserEligibilityUpdated"],
    )
    assert hook["webhookUrl"] == "https://example.com/api"
    assert hook["name"] == "Example Webhook"
    assert hook["notificationTypes"] == ["PriceCurveCreated", "UserEligibilityUpdated"]
    assert hook["enabled"] is True and hook["status"] == "New"
    assert "webhookSecret" not in hook and "CMJ0PqrOtGIat7j" not in str(hook)
    r = await ec.client.get(f"/webhooks/{hook['webhookId']}")
    assert r.status_code == 200 and r.json() == hook
    listed = check("GetWebhooksResponse", (await ec.client.get("/webhooks")).json())
    assert listed == {"webhooks": [hook]}


async def test_types_default_to_all_and_duplicates_collapse(ec):
    assert (await create(ec.client))["notificationTypes"] == ALL_TYPES
    hook = await create(ec.client, notificationTypes=["PriceCurveCreated", "PriceCurveCreated"])
    assert hook["notificationTypes"] == ["PriceCurveCreated"]
    listed = (await ec.client.get("/webhooks")).json()["webhooks"]
    assert len(listed) == 2


async def test_bad_webhooks_are_refused_naming_the_field(ec):
    cases = [
        ({"webhookUrl": "example.com/hook"}, "webhookUrl"),
        ({"webhookUrl": "ftp://example.com/hook"}, "webhookUrl"),
        ({"webhookUrl": "https://"}, "webhookUrl"),
        ({"webhookUrl": "https://example.com:99999/x"}, "webhookUrl"),
        ({"webhookUrl": " https://example.com/x"}, "webhookUrl"),
        ({"name": "x"}, "webhookUrl"),
        ({"webhookUrl": 5}, "webhookUrl"),
        (
            {"webhookUrl": "https://example.com", "notificationTypes": ["Unknown"]},
            "notificationTypes[0]",
        ),
        (
            {"webhookUrl": "https://example.com", "notificationTypes": ["Nope"]},
            "notificationTypes[0]",
        ),
        ({"webhookUrl": "https://example.com", "notificationTypes": []}, "notificationTypes"),
        ({"webhookUrl": "https://example.com", "colour": "red"}, "colour"),
        ({"webhookUrl": "https://example.com", "name": "n" * 401}, "name"),
    ]
    for body, field in cases:
        problem(await ec.client.post("/webhooks", json=body), field)
    r = await ec.client.post(
        "/webhooks", content=b"{not json", headers={"content-type": "application/json"}
    )
    problem(r, "body")
    assert (await ec.client.get("/webhooks")).json() == {"webhooks": []}


async def test_put_replaces_the_whole_subscription(ec):
    hook = await create(
        ec.client, name="old", webhookSecret="s1", notificationTypes=["PriceCurveCreated"]
    )
    url = f"/webhooks/{hook['webhookId']}"
    r = await ec.client.put(
        url,
        json={
            "webhookUrl": "https://new-example.com/api/v2/",
            "notificationTypes": ["UserEligibilityUpdated"],
            "enabled": False,
            "name": "New name",
            "webhookSecret": "New secret",
        },
    )
    assert r.status_code == 200, r.text
    new = check("GetWebhookResponse", r.json())
    assert new["webhookUrl"] == "https://new-example.com/api/v2/"
    assert new["notificationTypes"] == ["UserEligibilityUpdated"]
    assert new["enabled"] is False and new["name"] == "New name" and new["status"] == "New"
    assert new["createdDate"] == hook["createdDate"]
    assert new["modifiedDate"] >= hook["modifiedDate"]
    # left-out optional fields take their defaults (full replace)
    r = await ec.client.put(url, json={"webhookUrl": "https://new-example.com/api/v2/"})
    again = r.json()
    assert again["name"] is None and again["enabled"] is True
    assert again["notificationTypes"] == ALL_TYPES
    problem(await ec.client.put(url, json={"name": "no url"}), "webhookUrl")
    problem(await ec.client.put(url, json={"webhookUrl": "mailto:x@y"}), "webhookUrl")
    assert (await ec.client.get(url)).json() == again  # nothing changed by the refused PUTs


async def test_patch_changes_only_what_it_carries(ec):
    hook = await create(
        ec.client, name="keep", webhookSecret="s", notificationTypes=["PriceCurveCreated"]
    )
    url = f"/webhooks/{hook['webhookId']}"
    r = await ec.client.patch(
        url, json={"enabled": False, "name": None, "webhookUrl": None, "notificationTypes": None}
    )
    assert r.status_code == 200, r.text
    patched = check("GetWebhookResponse", r.json())
    assert patched["enabled"] is False
    assert patched["name"] == "keep" and patched["webhookUrl"] == hook["webhookUrl"]
    assert patched["notificationTypes"] == ["PriceCurveCreated"]
    r = await ec.client.patch(url, json={"notificationTypes": ["LocationLPCRequested"]})
    assert r.json()["notificationTypes"] == ["LocationLPCRequested"]
    r = await ec.client.patch(url, json={})
    assert r.status_code == 200 and r.json()["name"] == "keep"
    problem(await ec.client.patch(url, json={"webhookUrl": "nope"}), "webhookUrl")
    problem(await ec.client.patch(url, json={"enabled": "yes"}), "enabled")
    problem(
        await ec.client.patch(url, json={"notificationTypes": ["Unknown"]}), "notificationTypes[0]"
    )


async def test_enabled_switch(ec):
    hook = await create(ec.client)
    url = f"/webhooks/{hook['webhookId']}/enabled"
    r = await ec.client.put(url, params={"enabled": "false"})
    assert r.status_code == 204 and r.content == b""
    assert (await ec.client.get(f"/webhooks/{hook['webhookId']}")).json()["enabled"] is False
    r = await ec.client.put(url, params={"enabled": "true"})
    assert r.status_code == 204
    assert (await ec.client.get(f"/webhooks/{hook['webhookId']}")).json()["enabled"] is True
    problem(await ec.client.put(url, params={"enabled": "maybe"}), "enabled")
    problem(await ec.client.put(url), "enabled")
    r = await ec.client.put("/webhooks/does-not-exist/enabled", params={"enabled": "true"})
    assert r.status_code == 404


async def test_delete(ec):
    hook = await create(ec.client)
    url = f"/webhooks/{hook['webhookId']}"
    r = await ec.client.delete(url)
    assert r.status_code == 204 and r.content == b""
    assert (await ec.client.get(url)).status_code == 404
    r = await ec.client.delete(url)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert isinstance(r.json(), str)  # the document gives this 404 a string body
    assert (await ec.client.get("/webhooks")).json() == {"webhooks": []}


async def test_unknown_webhook_is_404(ec):
    for method in ("get", "delete"):
        assert (await getattr(ec.client, method)("/webhooks/nope")).status_code == 404
    r = await ec.client.put("/webhooks/nope", json={"webhookUrl": "https://example.com"})
    assert r.status_code == 404
    assert (await ec.client.patch("/webhooks/nope", json={})).status_code == 404


async def test_logs_route_is_not_taken_for_a_webhook_id(ec):
    r = await ec.client.get("/webhooks/logs")
    assert r.status_code == 200, r.text
    body = check("GetWebhookNotificationLogsResponse", r.json())
    assert body["webhookNotificationLogs"] == []
    assert body["pagination"]["totalRecords"] == 0
    r = await ec.client.get("/webhooks/logs/unknown-notification")
    # the document lists 400 but no 404 for this operation
    assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM)
    problem(await ec.client.get("/webhooks/logs", params={"pageSize": 0}), "pageSize")
    problem(await ec.client.get("/webhooks/logs", params={"page": "x"}), "page")


async def test_webhooks_are_private_to_their_partner(make_partner):
    alice, bob = await make_partner(), await make_partner()
    hook = await create(alice.client, name="alice")
    url = f"/webhooks/{hook['webhookId']}"
    assert (await bob.client.get("/webhooks")).json() == {"webhooks": []}
    assert (await bob.client.get(url)).status_code == 404
    r = await bob.client.put(url, json={"webhookUrl": "https://evil.example.com"})
    assert r.status_code == 404
    assert (await bob.client.patch(url, json={"enabled": False})).status_code == 404
    assert (await bob.client.put(url + "/enabled", params={"enabled": "false"})).status_code == 404
    assert (await bob.client.delete(url)).status_code == 404
    assert (await alice.client.get(url)).json() == hook


async def test_private_addresses_refused_unless_allowed(platform, ec):
    # The test platform allows loopback receivers; the same literal address is refused when the
    # operator has not allowed private targets.
    from flexhub.platform.coordination.services.webhooks import check_webhook_url
    from flexhub.platform.errors import ApiError

    assert platform.settings.webhook_allow_private
    await create(ec.client, webhookUrl="http://127.0.0.1:9/hook")
    try:
        check_webhook_url("http://127.0.0.1:9/hook", allow_private=False)
    except ApiError as exc:
        assert exc.status == 400 and "webhookUrl" in (exc.errors or {})
    else:
        raise AssertionError("a loopback URL was accepted without allow_private")

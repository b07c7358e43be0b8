"""A provider's assets: create, read, look up by ref, change; 400 naming the field."""

from __future__ import annotations

from support.fm import asset_body, ok


async def test_create_read_list_and_look_up_by_ref(make_partner):
    fsp = await make_partner(role="provider", api="")
    body = asset_body(latitude="51.501", longitude="-0.142", min_runtime="00:30:00")
    created = await ok(await fsp.client.post("/assets/v1/", json=body), 201)
    assert created["provider"] == fsp.id and created["id"]
    for key, value in body.items():
        assert created[key] == value, key
    assert created["max_runtime"] is None and created["reactive_import_capacity"] is None
    assert created["created"].endswith("Z") and created["modified"] == created["created"]
    assert await ok(await fsp.client.get(f"/assets/v1/{created['id']}/")) == created
    second = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    listed = await ok(await fsp.client.get("/assets/v1/"))
    assert listed["count"] == 2 and listed["results"] == [created, second]
    by_ref = await ok(await fsp.client.get("/assets/v1/", params={"ref": second["ref"]}))
    assert by_ref["results"] == [second]
    none = await ok(await fsp.client.get("/assets/v1/", params={"ref": "unknown"}))
    assert none == {"count": 0, "next": None, "previous": None, "results": []}


async def test_defaults_and_the_provider_field(make_partner):
    fsp = await make_partner(role="provider", api="")
    minimal = {"ref": "a1", "name": "Minimal", "latitude": "51.5", "longitude": "0.1"}
    created = await ok(await fsp.client.post("/assets/v1/", json=minimal), 201)
    assert created["status"] == "in_development" and created["postcode"] is None
    own = asset_body(provider=fsp.id)
    assert (await ok(await fsp.client.post("/assets/v1/", json=own), 201))["provider"] == fsp.id
    r = await fsp.client.post("/assets/v1/", json=asset_body(provider="someone-else"))
    assert r.status_code == 400 and list(r.json()) == ["provider"]


async def test_patch_changes_only_what_is_sent(make_partner):
    fsp = await make_partner(role="provider", api="")
    created = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    url = f"/assets/v1/{created['id']}/"
    patched = await ok(
        await fsp.client.patch(url, json={"name": "Renamed", "active_export_capacity": "3.75"})
    )
    assert patched["name"] == "Renamed" and patched["active_export_capacity"] == "3.75"
    assert patched["ref"] == created["ref"] and patched["postcode"] == created["postcode"]
    assert patched["modified"] > created["modified"]
    assert await ok(await fsp.client.get(url)) == patched
    cleared = await ok(
        await fsp.client.patch(url, json={"response_time": None, "status": "mothballed"})
    )
    assert cleared["response_time"] is None and cleared["status"] == "mothballed"
    moved = await ok(
        await fsp.client.patch(url, json={"postcode": None, "latitude": "52", "longitude": "1"})
    )
    assert moved["postcode"] is None and moved["latitude"] == "52"


async def test_invalid_assets_are_400_naming_the_field(make_partner):
    fsp = await make_partner(role="provider", api="")
    taken = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    cases = [
        (asset_body(ref=taken["ref"]), "ref"),
        (asset_body(ref=""), "ref"),
        (asset_body(status="broken"), "status"),
        (asset_body(voltage_level="high"), "voltage_level"),
        (asset_body(active_import_capacity="-1"), "active_import_capacity"),
        (asset_body(active_import_capacity=2.5), "active_import_capacity"),
        (asset_body(response_time="5 minutes"), "response_time"),
        (asset_body(country_code="GBR"), "country_code"),
        (asset_body(postcode=None), "postcode"),
        (asset_body(postcode=None, latitude="51.5"), "postcode"),
        (asset_body(latitude="51.5"), "longitude"),
        (asset_body(latitude="91", longitude="0"), "latitude"),
        (asset_body(colour="blue"), "colour"),
        ({"name": "No ref", "postcode": "X1"}, "ref"),
    ]
    for body, field in cases:
        r = await fsp.client.post("/assets/v1/", json=body)
        assert r.status_code == 400, (field, r.text)
        assert field in r.json(), (field, r.json())
    assert (await ok(await fsp.client.get("/assets/v1/")))["count"] == 1
    other = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    url = f"/assets/v1/{other['id']}/"
    for patch, field in (
        ({"ref": taken["ref"]}, "ref"),
        ({"name": None}, "name"),
        ({"postcode": None}, "postcode"),
        ({"max_runtime": "forever"}, "max_runtime"),
        ({"provider": fsp.id}, "provider"),
        ({"id": "new-id"}, "id"),
    ):
        r = await fsp.client.patch(url, json=patch)
        assert r.status_code == 400 and field in r.json(), (field, r.text)
    assert await ok(await fsp.client.get(url)) == other


async def test_assets_are_private_to_their_provider(make_partner):
    fsp = await make_partner(role="provider", api="")
    other = await make_partner(role="provider", api="")
    asset = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    url = f"/assets/v1/{asset['id']}/"
    assert (await other.client.get(url)).status_code == 404
    r = await other.client.patch(url, json={"name": "Mine now"})
    assert r.status_code == 404 and list(r.json()) == ["detail"]
    listed = await ok(await other.client.get("/assets/v1/", params={"ref": asset["ref"]}))
    assert listed["count"] == 0
    # the same ref is free for another provider
    await ok(await other.client.post("/assets/v1/", json=asset_body(ref=asset["ref"])), 201)
    assert (await ok(await fsp.client.get(url)))["name"] == asset["name"]

"""Operator endpoints for neighbourhoods (``/energy-coordination/v1/operator/...``), through a
real server on each database: the system operator and admin roles list, read and replace
them; partners get a 403; a bad collection is a problem+json 400 naming every field and
changes nothing; a reload that removes an area removes its users at once, and stores each
partner's flips on its own users."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flexhub.store.coordination import Neighbourhood
from flexhub.store.database import Database
from support.ec_assets import new_location, new_user, problem, uid
from support.geo import collection, meter_feature, own_platform, square_feature
from support.platform import new_partner

SANDBOX = ["sandbox-test-area-1", "sandbox-test-area-2"]
PATH = "/operator/neighbourhoods"


@pytest.fixture(scope="module")
def geo(backend, tmp_path_factory):
    yield from own_platform(backend.name, tmp_path_factory, eligibility_cycle_seconds=3600)


@pytest.fixture(scope="module")
async def geo_db(geo):
    db = Database(geo.settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def partners(geo, geo_db):
    made = []

    async def make(role: str = "provider"):
        partner = await new_partner(geo.base_url, geo_db, role)
        made.append(partner)
        return partner

    yield make
    for p in made:
        await p.client.aclose()


async def stored_ids(db) -> list[str]:
    async with db.session() as s:
        return sorted((await s.scalars(select(Neighbourhood.id))).all())


async def eligible(ec, user_id: str) -> bool:
    r = await ec.client.get(f"/users/{user_id}/eligibility")
    assert r.status_code == 200, r.text
    return r.json()["isEligible"]


async def test_partners_are_refused_and_operators_and_admins_served(partners):
    provider = await partners("provider")
    for r in (
        await provider.client.get(PATH),
        await provider.client.get(f"{PATH}/{SANDBOX[0]}"),
        await provider.client.put(PATH, json=collection()),
    ):
        assert r.status_code == 403, r.text
        assert problem(r, 403)["detail"].startswith("this endpoint is for the role(s)")
    for role in ("system_operator", "admin"):
        operator = await partners(role)
        r = await operator.client.get(PATH)
        assert r.status_code == 200, r.text
    anonymous = (await partners("system_operator")).client
    del anonymous.headers["Authorization"]
    assert (await anonymous.get(PATH)).status_code == 401


async def test_load_list_get_and_reload(partners, geo_db):
    operator = await partners("system_operator")
    body = collection(
        square_feature(
            "geo-a", 10.0, 59.0, name="A", capacityKw=400, params={"solarKwp": 50, "households": 80}
        ),
        square_feature("geo-b", 10.1, 59.0, priceArea="SE3"),
        meter_feature("geo-m", ["mp-geo-1"], priceArea="DK1"),
    )
    r = await operator.client.put(PATH, json=body)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["added"] == ["geo-a", "geo-b", "geo-m"] and done["removed"] == []
    assert done["updated"] == [] and set(SANDBOX) <= set(done["unchanged"])

    r = await operator.client.get(PATH, params={"page": 1, "pageSize": 2})
    page = r.json()
    assert r.status_code == 200
    assert [n["id"] for n in page["neighbourhoods"]] == ["geo-a", "geo-b"]
    assert page["pagination"]["totalRecords"] == 5 and page["pagination"]["nextPage"] == 2
    r = await operator.client.get(PATH, params={"page": 3, "pageSize": 2})
    assert [n["id"] for n in r.json()["neighbourhoods"]] == [SANDBOX[1]]

    a = (await operator.client.get(f"{PATH}/geo-a")).json()
    assert a["name"] == "A" and a["priceArea"] == "NO1" and a["currency"] == "NOK"
    assert a["timeZone"] == "Europe/Oslo" and a["capacityKw"] == 400
    assert a["params"] == {"solarKwp": 50, "households": 80}
    assert a["geometry"] == body["features"][0]["geometry"] and a["meterPointIds"] == []
    b = (await operator.client.get(f"{PATH}/geo-b")).json()
    assert (b["currency"], b["timeZone"], b["name"]) == ("SEK", "Europe/Stockholm", "geo-b")
    m = (await operator.client.get(f"{PATH}/geo-m")).json()
    assert m["geometry"] is None and m["meterPointIds"] == ["mp-geo-1"]

    again = (await operator.client.put(PATH, json=body)).json()
    assert again["added"] == again["updated"] == again["removed"] == []
    assert (await operator.client.get(f"{PATH}/geo-a")).json()["updatedAt"] == a["updatedAt"]

    body["features"][1]["properties"]["capacityKw"] = 900
    changed = (await operator.client.put(PATH, json=collection(*body["features"][1:]))).json()
    assert changed["updated"] == ["geo-b"] and changed["removed"] == ["geo-a"]
    assert await stored_ids(geo_db) == sorted(["geo-b", "geo-m", *SANDBOX])
    assert (await operator.client.get(f"{PATH}/geo-b")).json()["capacityKw"] == 900


async def test_bad_collections_are_named_and_change_nothing(partners, geo_db):
    operator = await partners("admin")
    before = await stored_ids(geo_db)
    bad = collection(
        square_feature("ok", 20.0, 60.0),
        square_feature("bad-area", 20.1, 60.0, priceArea="NO7"),
        {
            **square_feature("bad-ring", 20.2, 60.0),
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0]]]},
        },
    )
    body = problem(await operator.client.put(PATH, json=bad), 400)
    assert body["errors"]["features[1].properties.priceArea"][0].startswith("must be one of")
    assert "features[2].geometry.coordinates[0]" in body["errors"]
    assert await stored_ids(geo_db) == before
    for wrong in ([], {"type": "FeatureCollection"}, {"type": "Topology"}):
        problem(await operator.client.put(PATH, json=wrong), 400)
    r = await operator.client.put(
        PATH,
        content=b'{"type": "FeatureCollection", "features": [',
        headers={"content-type": "application/json"},
    )
    assert problem(r, 400)["errors"]["body"] == ["The request body is not valid JSON."]
    assert await stored_ids(geo_db) == before
    missing = problem(await operator.client.get(f"{PATH}/{uid('nh')}"), 404)
    assert missing["detail"].endswith("was not found")
    assert (await operator.client.get(f"{PATH}/..")).status_code == 404


async def test_a_reload_that_removes_an_area_removes_its_users_at_once(partners):
    operator = await partners("system_operator")
    ec = await partners("provider")
    area_a = square_feature("rm-a", 30.0, 65.0, size=0.1)
    area_b = square_feature("rm-b", 30.2, 65.0, size=0.1)
    by_meter = meter_feature("rm-m", ["mp-rm-1"])
    r = await operator.client.put(PATH, json=collection(area_a, area_b, by_meter))
    assert r.status_code == 200, r.text
    in_a, in_b, metered, outside = [await new_user(ec) for _ in range(4)]
    await new_location(ec, in_a, coordinates={"latitude": 65.05, "longitude": 30.05})
    await new_location(ec, in_b, coordinates={"latitude": 65.05, "longitude": 30.25})
    await new_location(ec, metered, meterPointIds=["mp-rm-1"])
    await new_location(ec, outside, coordinates={"latitude": 65.05, "longitude": 30.15})
    assert [await eligible(ec, u) for u in (in_a, in_b, metered, outside)] == [
        True,
        True,
        True,
        False,
    ]

    wider_b = square_feature("rm-b", 30.1, 65.0, size=0.2)  # now also covers `outside`
    r = await operator.client.put(PATH, json=collection(wider_b))
    done = r.json()
    assert done["removed"] == ["rm-a", "rm-m"] and done["updated"] == ["rm-b"]
    assert (done["usersAdded"], done["usersRemoved"]) == (1, 2)
    assert [await eligible(ec, u) for u in (in_a, in_b, metered, outside)] == [
        False,
        True,
        False,
        True,
    ]
    r = await ec.client.get("/users/eligible")
    assert sorted(u["userId"] for u in r.json()["users"]) == sorted([in_b, outside])
    assert (await ec.client.get("/meters/mp-rm-1/eligible")).json()["isEligible"] is False


async def test_a_reload_stores_each_partners_flips_on_its_own_users(partners):
    """One user id at three partners: two on opposite sides of a moved area, which a reload
    flips each the other way, and one far from it, which it leaves (all partners' flags are
    written by one statement on PostgreSQL)."""
    operator = await partners("system_operator")
    first, second, third = [await partners("provider") for _ in range(3)]
    area = square_feature("two-a", 31.0, 66.0, size=0.1)
    r = await operator.client.put(PATH, json=collection(area))
    assert r.status_code == 200, r.text
    shared = uid("u")
    for ec, longitude in ((first, 31.05), (second, 31.25), (third, 35.0)):
        await new_user(ec, shared)
        await new_location(ec, shared, coordinates={"latitude": 66.05, "longitude": longitude})
    assert [await eligible(ec, shared) for ec in (first, second, third)] == [True, False, False]

    moved = square_feature("two-a", 31.2, 66.0, size=0.1)  # now holds the second's location only
    r = await operator.client.put(PATH, json=collection(moved))
    assert (r.json()["usersAdded"], r.json()["usersRemoved"]) == (1, 1), r.text
    assert [await eligible(ec, shared) for ec in (first, second, third)] == [False, True, False]

"""Users: create, read, page, delete (with cascade) and batch create, through the real server."""

from __future__ import annotations

from flexhub.store.coordination import (
    EcEnrollment,
    EcLocation,
    EcLocationMeter,
    EcResource,
    EcUser,
)
from support.ec_assets import SANDBOX_1, error_string, uid
from support.ec_assets import stored_count as count
from support.ec_schemas import check


async def test_create_get_and_list_users(ec):
    user_id = uid()
    r = await ec.client.post("/users", json={"userId": user_id})
    assert r.status_code == 201
    assert check("GetUserResponse", r.json()) == {"userId": user_id}

    r = await ec.client.get(f"/users/{user_id}")
    assert r.status_code == 200
    assert check("GetUserResponse", r.json()) == {"userId": user_id}

    r = await ec.client.get("/users")
    body = check("GetUsersResponse", r.json())
    assert r.status_code == 200
    assert body["users"] == [{"userId": user_id}]
    assert body["pagination"] == {
        "totalRecords": 1,
        "pageSize": 100,
        "currentPage": 1,
        "totalPages": 1,
        "nextPage": None,
        "previousPage": None,
    }


async def test_users_are_paged_in_creation_order(ec):
    ids = [uid() for _ in range(5)]
    for user_id in ids:
        assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    r = await ec.client.get("/users", params={"page": 1, "pageSize": 2})
    body = check("GetUsersResponse", r.json())
    assert [u["userId"] for u in body["users"]] == ids[:2]
    assert body["pagination"]["totalRecords"] == 5
    assert body["pagination"]["totalPages"] == 3
    assert body["pagination"]["nextPage"] == 2 and body["pagination"]["previousPage"] is None
    r = await ec.client.get("/users", params={"page": 3, "pageSize": 2})
    body = check("GetUsersResponse", r.json())
    assert [u["userId"] for u in body["users"]] == ids[4:]
    assert body["pagination"]["nextPage"] is None and body["pagination"]["previousPage"] == 2
    r = await ec.client.get("/users", params={"page": 9, "pageSize": 2})
    assert r.json()["users"] == []


async def test_bad_paging_is_a_400_string(ec):
    bad = (
        {"page": 0},
        {"pageSize": 0},
        {"pageSize": 1001},
        {"page": "x"},
        {"page": 2**31},
        {"page": 10**18, "pageSize": 1000},
        {"page": 1.5},
    )
    for params in bad:
        r = await ec.client.get("/users", params=params)
        error_string(r, 400)
    r = await ec.client.get("/users", params={"pageSize": 1000})
    assert r.status_code == 200
    r = await ec.client.get("/users", params={"page": 2**31 - 1, "pageSize": 1000})
    assert r.status_code == 200 and r.json()["users"] == []


async def test_duplicate_user_is_a_400_naming_it(ec):
    user_id = uid()
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    r = await ec.client.post("/users", json={"userId": user_id})
    message = error_string(r, 400)
    assert user_id in message and "userId" in message


async def test_bad_user_bodies_are_400_strings_naming_the_field(ec):
    cases = [
        ({}, "userId"),
        ({"userId": 42}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": " padded"}, "userId"),
        ({"userId": "x" * 201}, "userId"),
        ({"userId": "ok", "name": "extra"}, "name"),
        (["userId"], "body"),
    ]
    for body, field in cases:
        r = await ec.client.post("/users", json=body)
        assert field in error_string(r, 400), body
    r = await ec.client.post(
        "/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    error_string(r, 400)
    r = await ec.client.post("/users")
    error_string(r, 400)
    assert (await ec.client.get("/users")).json()["users"] == []


async def test_longest_id_is_accepted_and_overlong_path_ids_are_404(ec):
    user_id = "y" * 200
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    assert (await ec.client.get(f"/users/{user_id}")).status_code == 200
    for path in (f"/users/{'z' * 300}", "/users/%20x"):
        error_string(await ec.client.get(path), 404)
    # listing locations documents 400 but no 404: an impossible user id is that 400
    error_string(await ec.client.get(f"/users/{'z' * 300}/locations"), 400)
    error_string(await ec.client.delete(f"/users/{'z' * 300}"), 404)


async def test_unknown_user_is_a_404_string(ec):
    error_string(await ec.client.get(f"/users/{uid()}"), 404)
    error_string(await ec.client.delete(f"/users/{uid()}"), 404)


async def test_delete_user_is_204_and_then_gone(ec):
    user_id = uid()
    await ec.client.post("/users", json={"userId": user_id})
    r = await ec.client.delete(f"/users/{user_id}")
    assert r.status_code == 204 and r.content == b""
    error_string(await ec.client.get(f"/users/{user_id}"), 404)
    error_string(await ec.client.delete(f"/users/{user_id}"), 404)
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201


async def test_delete_user_cascades_to_everything_it_owns(ec, test_db):
    user_id, meter = uid(), uid("mp")
    await ec.client.post("/users", json={"userId": user_id})
    r = await ec.client.post(
        f"/users/{user_id}/locations",
        json={"locationId": uid("l"), "coordinates": SANDBOX_1, "meterPointIds": [meter]},
    )
    location_id = r.json()["locationId"]
    r = await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": uid("r"), "resourceType": "HotWaterTank", "meterPointId": meter},
    )
    assert r.status_code == 201
    r = await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": uid("v"), "resourceType": "Vehicle"}
    )
    assert r.status_code == 201
    assert (await ec.client.post(f"/users/{user_id}/enrollment")).status_code == 200
    for table in (EcUser, EcLocation, EcLocationMeter, EcEnrollment):
        assert await count(test_db, table, ec.id) == 1
    assert await count(test_db, EcResource, ec.id) == 2

    assert (await ec.client.delete(f"/users/{user_id}")).status_code == 204
    for table in (EcUser, EcLocation, EcLocationMeter, EcResource, EcEnrollment):
        assert await count(test_db, table, ec.id) == 0, table
    # the meter point is free again
    other = uid()
    await ec.client.post("/users", json={"userId": other})
    r = await ec.client.post(
        f"/users/{other}/locations", json={"locationId": location_id, "meterPointIds": [meter]}
    )
    assert r.status_code == 201


async def test_batch_creates_all(ec):
    ids = [uid() for _ in range(3)]
    r = await ec.client.post("/users/batch", json={"users": [{"userId": i} for i in ids]})
    assert r.status_code == 201
    assert check("PostUsersBatchResponse", r.json()) == {"users": [{"userId": i} for i in ids]}
    listed = (await ec.client.get("/users")).json()["users"]
    assert sorted(u["userId"] for u in listed) == sorted(ids)
    r = await ec.client.post("/users/batch", json={"users": []})
    assert r.status_code == 201 and r.json() == {"users": []}


async def test_batch_is_all_or_nothing(ec, test_db):
    existing = uid()
    await ec.client.post("/users", json={"userId": existing})
    fresh = [uid(), uid()]

    r = await ec.client.post(
        "/users/batch",
        json={"users": [{"userId": fresh[0]}, {"userId": existing}, {"userId": fresh[1]}]},
    )
    message = error_string(r, 400)
    assert "users[1].userId" in message and existing in message

    r = await ec.client.post(
        "/users/batch",
        json={"users": [{"userId": fresh[0]}, {"userId": fresh[1]}, {"userId": fresh[0]}]},
    )
    message = error_string(r, 400)
    assert "users[2].userId" in message and fresh[0] in message

    r = await ec.client.post("/users/batch", json={"users": [{"userId": fresh[0]}, {"userId": ""}]})
    assert "users[1].userId" in error_string(r, 400)

    r = await ec.client.post("/users/batch", json={"users": [{"userId": fresh[0]}, {"x": 1}]})
    assert "users[1]" in error_string(r, 400)

    for body in ({}, {"users": None}, {"users": "abc"}):
        error_string(await ec.client.post("/users/batch", json=body), 400)

    assert await count(test_db, EcUser, ec.id) == 1


async def test_batch_takes_the_ceiling_and_refuses_more(ec, test_db, platform):
    ceiling = platform.settings.max_batch_items  # FLEXHUB_MAX_BATCH_ITEMS, 10,000 by default
    assert ceiling >= 10_000
    users = [{"userId": f"b{i}"} for i in range(ceiling + 1)]
    r = await ec.client.post("/users/batch", json={"users": users})
    message = error_string(r, 400)
    assert "users" in message and f"at most {ceiling} items" in message
    assert await count(test_db, EcUser, ec.id) == 0
    r = await ec.client.post("/users/batch", json={"users": users[:ceiling]})
    assert r.status_code == 201 and len(r.json()["users"]) == ceiling
    assert r.json()["users"][-1] == {"userId": f"b{ceiling - 1}"}
    assert await count(test_db, EcUser, ec.id) == ceiling
    # one taken id among thousands: nothing written
    again = [{"userId": f"c{i}"} for i in range(5000)] + [{"userId": "b17"}]
    assert "users[5000].userId" in error_string(
        await ec.client.post("/users/batch", json={"users": again}), 400
    )
    assert await count(test_db, EcUser, ec.id) == ceiling


async def test_requests_need_a_token(platform):
    import httpx

    async with httpx.AsyncClient(base_url=platform.base_url + "/energy-coordination/v1") as http:
        r = await http.get("/users")
        assert r.status_code == 401
        r = await http.post("/users", json={"userId": "x"})
        assert r.status_code == 401


def test_a_ceiling_below_the_json_guard_is_the_routes_own():
    import pytest

    from flexhub.platform.coordination.batch import check_size
    from flexhub.platform.errors import ApiError

    check_size([1, 2], "users", 2)
    with pytest.raises(ApiError) as refused:
        check_size([1, 2, 3], "users", 2)
    assert refused.value.status == 400
    assert "users: at most 2 items per call, this request has 3" in str(refused.value)

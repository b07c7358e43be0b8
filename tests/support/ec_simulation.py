"""Helpers for the simulation tests: a household made through the real API, a simulation call
checked against the document, and the refusal format."""

from __future__ import annotations

import random

from support.ec_assets import SANDBOX_1, uid
from support.ec_schemas import check as check_event_schema


async def household(ec, *, enroll: bool = True, vehicle: bool = True, meters: int = 1) -> dict:
    """A user with a location in sandbox test area 1 (eligible), a hot water tank there and
    optionally a vehicle; enrolled unless told not to. Made through the real API."""
    user, location = uid("u"), uid("l")
    meter_ids = [f"7070575000{random.randrange(10**8):08d}" for _ in range(meters)]
    assert (await ec.client.post("/users", json={"userId": user})).status_code == 201
    r = await ec.client.post(
        f"/users/{user}/locations",
        json={
            "locationId": location,
            "locationType": "Residential",
            "coordinates": SANDBOX_1,
            "meterPointIds": meter_ids,
        },
    )
    assert r.status_code == 201, r.text
    tank = uid("tank")
    r = await ec.client.post(
        f"/users/{user}/locations/{location}/resources",
        json={"resourceId": tank, "resourceType": "HotWaterTank"},
    )
    assert r.status_code == 201, r.text
    out = {"user": user, "location": location, "meters": meter_ids, "tank": tank, "car": None}
    if vehicle:
        out["car"] = uid("car")
        r = await ec.client.post(
            f"/users/{user}/vehicles", json={"resourceId": out["car"], "resourceType": "Vehicle"}
        )
        assert r.status_code == 201, r.text
    if enroll:
        r = await ec.client.post(f"/users/{user}/enrollment")
        assert r.status_code == 200, r.text
    return out


async def simulate(ec, path: str, body=None) -> dict:
    kwargs = {} if body is None else {"json": body}
    r = await ec.client.post(f"/simulation/events/{path}", **kwargs)
    assert r.status_code == 200, r.text
    event = check_event_schema("SimulateEventResponse", r.json())["simulatedEvent"]
    # a simulated event is a real one
    assert (await ec.client.get(f"/events/{event['id']}")).json() == event
    return event


def refused(r, field: str) -> str:
    assert r.status_code == 400, r.text
    message = r.json()
    assert isinstance(message, str) and field in message, (field, message)
    return message

"""Helpers for the Energy Coordination users/locations/resources/program tests: ids, error-body
checks, setup through the real API, and reading what the platform stored."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from flexhub.clock import utcnow
from flexhub.platform.coordination.services.eligibility_cycle import run_cycle
from flexhub.store.coordination import EcEvent
from support.ec_schemas import check

SANDBOX_1 = {"latitude": 79.51913682860402, "longitude": 15.97611317258921}
SANDBOX_2 = {"latitude": 78.22094240482632, "longitude": 15.619465054484257}
OSLO = {"latitude": 59.91, "longitude": 10.75}
BERGEN = {"latitude": 60.39, "longitude": 5.32}


def uid(prefix: str = "x") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_string(r, status: int) -> str:
    """The response is ``status`` with a bare, non-empty JSON string body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, str) and body
    return body


def problem(r, status: int) -> dict:
    """The response is ``status`` with an ``application/problem+json`` body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return check("HttpValidationProblemDetails", r.json())


async def new_user(ec, user_id: str | None = None) -> str:
    user_id = user_id or uid("u")
    r = await ec.client.post("/users", json={"userId": user_id})
    assert r.status_code == 201, r.text
    return user_id


async def new_location(ec, user_id: str, **fields) -> dict:
    body = {"locationId": uid("l"), **fields}
    r = await ec.client.post(f"/users/{user_id}/locations", json=body)
    assert r.status_code == 201, r.text
    return check("GetLocationResponse", r.json())


async def stored_count(test_db, table, tenant_id: str) -> int:
    async with test_db.session() as s:
        return await s.scalar(
            select(func.count()).select_from(table).where(table.tenant_id == tenant_id)
        )


async def run_eligibility_cycle(test_db) -> None:
    """Run an eligibility cycle now, as the platform does every
    ``FLEXHUB_ELIGIBILITY_CYCLE_SECONDS`` (its start: this instant, a cycle of its own)."""
    await run_cycle(test_db, utcnow(), "tests")


async def eligibility_events(test_db, tenant_id: str) -> list[dict]:
    """The partner's UserEligibility event payloads, oldest first, after an eligibility cycle
    has announced what changed so far."""
    await run_eligibility_cycle(test_db)
    async with test_db.session() as s:
        rows = await s.scalars(
            select(EcEvent)
            .where(EcEvent.tenant_id == tenant_id, EcEvent.payload_type == "UserEligibility")
            .order_by(EcEvent.created_at, EcEvent.id)
        )
        return [check("UserEligibilityPayload", e.payload) for e in rows.all()]

"""schemathesis with the official Energy Coordination document against the live server.

Every operation of the document is exercised with generated requests (seeded partner token and
some real data so that reads find things). The checks: no server errors, every response's
status code is one the document lists, its content type is the documented one, and its body
validates against the document's response schema.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import EC
from ec_spec import SPEC_PATH, as_generated_clients_read_it, load_official_document

pytestmark = pytest.mark.skipif(
    SPEC_PATH is None and not os.environ.get("CI"),
    reason="the official Energy Coordination document is not beside the repository",
)

EXAMPLES = int(os.environ.get("FLEXHUB_SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


async def seed(client) -> None:
    """A user in the sandbox area, enrolled, with resources, a webhook and events."""
    assert (await client.post("/users", json={"userId": "user-1"})).status_code == 201
    r = await client.post(
        "/users/user-1/locations",
        json={
            "locationId": "loc-1",
            "locationType": "Residential",
            "coordinates": {"latitude": 79.51913682860402, "longitude": 15.97611317258921},
            "meterPointIds": ["707057500012345678"],
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/users/user-1/locations/loc-1/resources",
        json={"resourceId": "res-1", "resourceType": "HotWaterTank"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/users/user-1/vehicles", json={"resourceId": "car-1", "resourceType": "Vehicle"}
    )
    assert r.status_code == 201, r.text
    r = await client.post("/users/user-1/enrollment")
    assert r.status_code == 200, r.text
    r = await client.post(
        "/webhooks",
        json={
            "webhookUrl": "http://127.0.0.1:9/unreachable",
            "webhookSecret": "s",
            "notificationTypes": ["PriceCurveCreated"],
        },
    )
    assert r.status_code == 201, r.text
    for path in (
        "/simulation/events/pricecurve",
        "/simulation/events/lpc/locations",
        "/simulation/events/lpc/resources",
    ):
        r = await client.post(path, json={})
        assert r.status_code == 200, (path, r.text)


async def test_official_document_against_live_server(platform, ec):
    await seed(ec.client)
    schema = schemathesis.openapi.from_dict(as_generated_clients_read_it(load_official_document()))
    base_url = platform.base_url + EC
    headers = {"Authorization": f"Bearer {ec.token}"}
    failures: list[str] = []

    def run_operation(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            response = case.call(base_url=base_url, headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collect all operations' failures
            failures.append(f"{operation.label}: {str(exc)[:1500]}")

    def run_all() -> None:
        for result in schema.get_all_operations():
            run_operation(result.ok())

    await asyncio.to_thread(run_all)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


def test_document_is_the_official_one():
    doc = load_official_document()
    assert doc["info"]["title"].startswith("Energy Coordination API")
    assert json.dumps(doc).count('"operationId"') >= 40

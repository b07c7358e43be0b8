"""schemathesis with the official Energy Coordination document against the live server.

Every operation of the document is exercised with generated requests (seeded partner token and
some real data so that reads find things), twice:

- valid requests: no server errors, every response's status code is one the document lists,
  its content type is the documented one, and its body validates against the document's
  response schema;
- invalid requests (negative data generation; operations with nothing to make invalid, such as
  a bare string path parameter, are skipped): never a server error, always refused (a 4xx),
  with the content type the document gives that status. An explicit ``null`` for an optional
  property is not counted as invalid: flexhub reads it as "not given" (``with_null_for_unset``).
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from support.ec_spec import (
    as_generated_clients_read_it,
    load_official_document,
    with_null_for_unset,
)
from support.platform import EC

pytestmark = pytest.mark.ec_document

EXAMPLES = int(os.environ.get("FLEXHUB_SCHEMATHESIS_EXAMPLES", "20"))
NEGATIVE_EXAMPLES = int(os.environ.get("FLEXHUB_SCHEMATHESIS_NEGATIVE_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not status_code_conformance: PUT /webhooks/{webhookId}/enabled documents no 400, yet a 400 is
# the only honest answer to ``enabled=maybe``.
NEGATIVE_CHECKS = [not_a_server_error, negative_data_rejection, content_type_conformance]


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


def run_document(schema, platform, partner, mode: GenerationMode, examples: int, checks):
    """Every operation of ``schema`` with ``examples`` generated requests; the failures of all
    operations, one string each (operations with no way to generate such a request are
    skipped)."""
    base_url = platform.base_url + EC
    headers = {"Authorization": f"Bearer {partner.token}"}
    failures: list[str] = []

    def run_operation(operation) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            response = case.call(base_url=base_url, headers=headers)
            case.validate_response(response, checks=checks)

        try:
            check()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # collect all operations' failures
            failures.append(f"{operation.label}: {str(exc)[:1500]}")

    for result in schema.get_all_operations():
        run_operation(result.ok())
    return failures


async def test_official_document_against_live_server(platform, ec):
    await seed(ec.client)
    schema = schemathesis.openapi.from_dict(as_generated_clients_read_it(load_official_document()))
    failures = await asyncio.to_thread(
        run_document, schema, platform, ec, GenerationMode.POSITIVE, EXAMPLES, CHECKS
    )
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


async def test_invalid_requests_are_refused_never_a_server_error(platform, ec):
    await seed(ec.client)
    doc = with_null_for_unset(as_generated_clients_read_it(load_official_document()))
    schema = schemathesis.openapi.from_dict(doc)
    schema.config.generation.update(with_security_parameters=False)  # the token stays valid
    failures = await asyncio.to_thread(
        run_document,
        schema,
        platform,
        ec,
        GenerationMode.NEGATIVE,
        NEGATIVE_EXAMPLES,
        NEGATIVE_CHECKS,
    )
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


def test_document_is_the_official_one():
    doc = load_official_document()
    assert doc["info"]["title"].startswith("Energy Coordination API")
    assert json.dumps(doc).count('"operationId"') >= 40

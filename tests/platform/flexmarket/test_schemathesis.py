"""Property-based tests of the Flex Market API against the platform's own OpenAPI document.

Every Flex Market operation (the document minus Energy Coordination and the OAuth token
endpoint) gets generated requests, valid ones and deliberately invalid ones, sent to the live
server with a real token of the right role. Every answer must be a non-5xx that matches the
response schema the document declares for its status. Operations with path ids are also run
against ids of real seeded objects, so that their success paths are exercised, not only 404s.
Bounded and deterministic: a fixed number of examples per operation, derandomized.
"""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from support.fm import market, ok
from support.platform import Partner

EXAMPLES = int(os.environ.get("FLEXHUB_FM_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance]


def flex_market_document(base_url: str) -> dict:
    doc = httpx.get(base_url + "/openapi.json").json()
    doc["paths"] = {
        path: item
        for path, item in doc["paths"].items()
        if not path.startswith("/energy-coordination/") and not path.startswith("/connect/")
    }
    return doc


async def seed(make_partner, receiver_url: str) -> tuple[dict[str, Partner], dict[str, str]]:
    """Callers and real objects (made through the API) whose ids are used as path parameters.

    The webhook operations run as a provider of their own, which holds no obligations: the
    subscriptions generated there (to generated URLs) never receive an event to deliver."""
    m = await market(make_partner)
    instruction = await ok(await m.dispatch(), 201)
    hooks = await make_partner(role="provider", api="")
    sub = await ok(
        await hooks.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": receiver_url, "events": ["obligation.updated"]},
        ),
        201,
    )
    known = {
        "competition_id": m.competition["id"],
        "obligation_id": m.obligation["id"],
        "asset_id": m.asset["id"],
        "instruction_id": instruction["id"],
        "subscription_id": sub["id"],
    }
    return {"so": m.so, "provider": m.fsp, "webhooks": hooks}, known


def caller(path: str, callers: dict[str, Partner]) -> Partner:
    if path.startswith("/so/"):
        return callers["so"]
    return callers["webhooks" if path.startswith("/webhook/") else "provider"]


def run_operation(
    operation, base_url: str, token: str, failures: list[str], path_parameters=None
) -> set[int]:
    """Generate and send requests for one operation; record failures, return the statuses."""
    statuses: set[int] = set()
    headers = {"Authorization": f"Bearer {token}"}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
        label = f"{operation.label} [{mode.value}{', seeded ids' if path_parameters else ''}]"
        _explore(strategy, label, base_url, headers, failures, statuses)
    return statuses


def _explore(strategy, label, base_url, headers, failures: list[str], statuses: set[int]) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def explore(case):
        try:
            response = case.call(base_url=base_url, headers=headers)
            statuses.add(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, FailureGroup) as exc:  # collect, go on: one report for the API
            failures.append(f"{label}: {exc}"[:2000])

    try:
        explore()
    except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
        if "[negative" not in label:
            raise


async def test_flex_market_api_against_its_own_document(platform, make_partner, receiver):
    callers, known = await seed(make_partner, receiver.url)
    schema = schemathesis.openapi.from_dict(flex_market_document(platform.base_url))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path.startswith("/webhook/v1/") for op in operations)
    assert not any(op.path.startswith("/energy-coordination/") for op in operations)

    failures: list[str] = []
    never_found: list[str] = []
    for operation in operations:
        token = caller(operation.path, callers).token
        run_operation(operation, platform.base_url, token, failures)
        names = [p.name for p in operation.path_parameters]
        if names and all(n in known for n in names) and operation.method.upper() != "DELETE":
            fixed = {n: known[n] for n in names}
            statuses = run_operation(operation, platform.base_url, token, failures, fixed)
            if operation.method.upper() == "GET" and 200 not in statuses:
                never_found.append(f"{operation.label}: {sorted(statuses)}")
    if failures:
        pytest.fail(f"{len(failures)} failing case(s):\n" + "\n\n".join(failures[:20]))
    # the seeded ids really reached the objects: every read of one succeeded at least once
    assert not never_found, never_found

"""The routes, operation by operation, against the official Energy Coordination document.

Read from the app's own OpenAPI description (no server needed): every documented operation is
served and nothing else; every success status a route answers is one the document lists; the
error style of each route gives the documented content type per status (``application/json``
string or ``application/problem+json``); an unknown id answers 404 only where the document
lists it; and the request bodies carry exactly the document's properties and required fields,
down to the nested objects, except for the few listed (and tested) deliberate deviations.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from flexhub.config import Settings
from flexhub.platform import errors
from flexhub.platform.app import create_app
from support.ec_spec import as_generated_clients_read_it, load_official_document

pytestmark = pytest.mark.ec_document
PROBLEM_TYPE = "application/problem+json"
# Properties the document leaves optional that a simulation request must still carry: a target
# names what it limits or prices, a point when it applies and what it is (400 naming the field).
STRICTER_REQUIRED = {
    "POST /simulation/events/lpc/locations.locations[]": {"location"},
    "POST /simulation/events/lpc/locations.locations[].location": {"locationId"},
    "POST /simulation/events/lpc/locations.locations[].points[]": {
        "maxPowerInKiloWatts",
        "timestamp",
    },
    "POST /simulation/events/lpc/resources.resources[]": {"resource"},
    "POST /simulation/events/lpc/resources.resources[].resource": {"resourceId"},
    "POST /simulation/events/lpc/resources.resources[].points[]": {
        "maxPowerInKiloWatts",
        "timestamp",
    },
    "POST /simulation/events/pricecurve.priceCurveDelta.points[]": {"price", "timestamp"},
}
# The guides' spelling of the acknowledgement payload types, accepted beside the document's.
EXTRA_ENUM = {"ResourceLPCAcknowledged", "LocationLPCAcknowledged"}


@functools.cache
def _documents() -> tuple[dict, dict]:
    app = create_app(
        Settings(database_url="sqlite+aiosqlite:///unused.db", data_dir=Path("unused"))
    )
    return as_generated_clients_read_it(load_official_document()), app.openapi()


def _operations(doc: dict, prefix: str = "") -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path[len(prefix) :]): op
        for path, ops in doc["paths"].items()
        if path.startswith(prefix)
        for method, op in ops.items()
    }


def _pairs() -> list[tuple[tuple[str, str], dict, dict]]:
    official, ours = _documents()
    mine = _operations(ours, errors.EC_PREFIX)
    return [(key, op, mine[key]) for key, op in _operations(official).items() if key in mine]


def _style(route: dict, status: int) -> str:
    by_status = route.get(errors.STATUS_STYLE_KEY, {})
    return by_status.get(str(status), route.get(errors.STYLE_KEY, "string"))


def test_every_documented_operation_is_served_and_nothing_else():
    official, ours = _documents()
    documented = set(_operations(official))
    served = _operations(ours, errors.EC_PREFIX)
    operator = {k for k in served if k[1].startswith("/operator/")}
    assert all(served[k]["tags"] == ["operator"] for k in operator)  # the platform's own
    assert documented == set(served) - operator
    assert len(documented) == 43


def test_success_statuses_are_documented():
    for (method, path), op, route in _pairs():
        answered = [s for s in route["responses"] if s.startswith("2")]
        assert answered, (method, path)
        for status in answered:
            assert status in op["responses"], (method, path, status, list(op["responses"]))


def test_error_bodies_have_the_documented_content_type_per_status():
    checked = 0
    for (method, path), op, route in _pairs():
        not_found = route.get(errors.NOT_FOUND_KEY, 404)
        for status in ("400", "404"):
            content = list(op["responses"].get(status, {}).get("content") or {})
            if not content or (status == "404" and not_found != 404):
                continue  # no body documented: any body will do
            want = "problem" if content == [PROBLEM_TYPE] else "string"
            assert content in ([PROBLEM_TYPE], ["application/json"]), (method, path, content)
            assert _style(route, int(status)) == want, (method, path, status, content)
            checked += 1
    assert checked >= 40  # every documented 400 and 404 body


def test_unknown_ids_answer_a_documented_status():
    for (method, path), op, route in _pairs():
        not_found = route.get(errors.NOT_FOUND_KEY, 404)
        documented = op["responses"]
        if not_found != 404:
            assert "404" not in documented and str(not_found) in documented, (method, path)
        elif "{" in path and "404" not in documented:
            # only operations that cannot miss (a meter lookup answers isEligible=false)
            assert (method, path) == ("GET", "/meters/{mpid}/eligible"), (method, path)


def test_request_bodies_match_the_document_down_to_nested_objects():
    official, ours = _documents()
    differences: list[str] = []
    for (method, path), op, route in _pairs():
        body = op.get("requestBody")
        assert bool(body) == bool(route.get("requestBody")), (method, path)
        if body:
            assert route["requestBody"].get("required") == body.get("required") is True
            _compare(
                official,
                body["content"]["application/json"]["schema"],
                ours,
                route["requestBody"]["content"]["application/json"]["schema"],
                f"{method} {path}",
                differences,
            )
    assert not differences, "\n".join(differences)


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:  # pydantic's ``X | None``
        options = [s for s in schema["anyOf"] if _resolve(doc, s).get("type") != "null"]
        if len(options) == 1:
            return _resolve(doc, options[0])
    return schema


def _tags(doc: dict, schema: dict) -> set[str]:
    tag = _resolve(doc, schema).get("properties", {}).get("payloadType", {})
    return set(tag.get("enum") or [tag.get("const")])


def _compare(doc: dict, theirs: dict, ours_doc: dict, ours: dict, where: str, out: list) -> None:
    theirs, ours = _resolve(doc, theirs), _resolve(ours_doc, ours)
    if "oneOf" in theirs:
        options = ours.get("oneOf") or ours.get("anyOf") or []
        for variant in theirs["oneOf"]:
            (tag,) = _tags(doc, variant)
            match = [o for o in options if tag in _tags(ours_doc, o)]
            if not match:
                out.append(f"{where}: no request model for payloadType {tag}")
            else:
                _compare(doc, variant, ours_doc, match[0], f"{where}<{tag}>", out)
        return
    if theirs.get("type") == "array":
        _compare(doc, theirs["items"], ours_doc, ours.get("items", {}), f"{where}[]", out)
        return
    if "properties" in theirs:
        props, mine = theirs["properties"], ours.get("properties", {})
        if set(props) != set(mine):
            out.append(f"{where}: properties {sorted(props)} != {sorted(mine)}")
        required = set(theirs.get("required", [])) | STRICTER_REQUIRED.get(where, set())
        if required != set(ours.get("required", [])):
            out.append(f"{where}: required {sorted(required)} != {ours.get('required')}")
        for name in set(props) & set(mine):
            _compare(doc, props[name], ours_doc, mine[name], f"{where}.{name}", out)
        return
    if "enum" in theirs:
        values = set(ours.get("enum") or [ours.get("const")])
        if values - EXTRA_ENUM != set(theirs["enum"]):
            out.append(f"{where}: enum {theirs['enum']} != {sorted(values)}")
    elif theirs.get("type") != ours.get("type") and {theirs.get("type"), ours.get("type")} != {
        "number",
        "integer",
    }:
        out.append(f"{where}: type {theirs.get('type')} != {ours.get('type')}")

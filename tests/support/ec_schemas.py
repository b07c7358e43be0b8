"""Validate response bodies against the official Energy Coordination OpenAPI document.

The document is OpenAPI 3.0 (``nullable``); it is turned into JSON Schema 2020-12 once and
checked with jsonschema_rs, formats included (date-time, date, uuid). Without the document
(``support.ec_spec``) a check validates nothing and is counted (``skipped_checks``)."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs

from support.ec_spec import SPEC_PATH, as_generated_clients_read_it, load_official_document

_skipped = 0  # checks that found no document to validate against


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
    return out


@functools.cache
def _components() -> dict[str, Any]:
    doc = as_generated_clients_read_it(load_official_document())
    return _convert(doc["components"]["schemas"])


@functools.cache
def _validator(name: str, array: bool):
    ref = {"$ref": f"#/components/schemas/{name}"}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": {"schemas": _components()},
        **({"type": "array", "items": ref} if array else ref),
    }
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def check(name: str, body: Any, *, array: bool = False) -> Any:
    """Assert ``body`` is a valid ``name`` (or an array of them); returns the body. Without
    the official document, only returns the body."""
    global _skipped
    if SPEC_PATH is None:
        _skipped += 1
        return body
    errors = [str(e) for e in _validator(name, array).iter_errors(body)]
    assert not errors, f"{name}: {errors} in {body!r}"
    return body


def skipped_checks() -> int:
    """How many checks so far had no document to validate against."""
    return _skipped

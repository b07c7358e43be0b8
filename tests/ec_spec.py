"""Where the official Energy Coordination document is, and how the tests read it."""

from __future__ import annotations

import json
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_CANDIDATES = [
    os.environ.get("FLEXHUB_EC_SPEC", ""),
    str(_ROOT.parent / "shared" / "specs" / "energy-coordination-v1.openapi.json"),
]
SPEC_PATH: Path | None = next((Path(p) for p in _CANDIDATES if p and Path(p).is_file()), None)


def load_official_document() -> dict:
    if SPEC_PATH is None:
        raise FileNotFoundError("energy-coordination-v1.openapi.json (set FLEXHUB_EC_SPEC)")
    return json.loads(SPEC_PATH.read_text())


def as_generated_clients_read_it(doc: dict) -> dict:
    """The document with its two inheritance constructs spelled out, as OpenAPI generators (the
    official C#, Java and TypeScript clients) read them; nothing else changes.

    Taken literally as JSON Schema, the payload schemas cannot be satisfied: each is
    ``allOf: [SparkEventPayload]`` (whose ``additionalProperties: false`` allows only
    ``payloadType``) plus its own ``additionalProperties: false`` (which does not list
    ``payloadType``), and ``LocationLPC``/``LPCReservation`` are the same shape under ``oneOf``.
    Generators treat ``allOf`` with a discriminated parent as inheritance and pick the subtype
    by the discriminator. So: merge the parent's properties into each subtype, and pin each
    subtype's ``payloadType`` to its discriminator value; a reference to the discriminated base
    itself (``EventNotification.payload``) means any of its subtypes.
    """
    doc = json.loads(json.dumps(doc))
    schemas = doc["components"]["schemas"]
    prefix = "#/components/schemas/"
    for name, schema in schemas.items():
        parents = [p["$ref"][len(prefix) :] for p in schema.get("allOf", []) if "$ref" in p]
        if not parents:
            continue
        props = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        for parent_name in parents:
            parent = schemas[parent_name]
            for key, value in parent.get("properties", {}).items():
                props.setdefault(key, value)
            required += [r for r in parent.get("required", []) if r not in required]
            mapping = parent.get("discriminator", {}).get("mapping", {})
            for value, ref in mapping.items():
                if ref == prefix + name:
                    prop = parent["discriminator"]["propertyName"]
                    props[prop] = {"type": "string", "enum": [value]}
                    if prop not in required:
                        required.append(prop)
        schema.pop("allOf")
        schema["properties"] = props
        if required:
            schema["required"] = required
    for schema in schemas.values():
        mapping = schema.get("discriminator", {}).get("mapping")
        if mapping:
            schema.clear()
            schema["oneOf"] = [{"$ref": ref} for ref in mapping.values()]
    return doc


def with_null_for_unset(doc: dict) -> dict:
    """The document with every optional property also allowing ``null``.

    flexhub reads an explicit ``null`` for an optional request property as "not given" (the
    document's own examples send them, e.g. ``"locationType": null`` in PATCH location, and
    ASP.NET reads them so). For negative data generation a null optional property is therefore
    not invalid input; required properties stay non-null."""
    doc = json.loads(json.dumps(doc))
    for schema in doc["components"]["schemas"].values():
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            if name not in required:
                prop["nullable"] = True
    return doc

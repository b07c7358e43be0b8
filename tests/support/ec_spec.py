"""Where the official Energy Coordination document is, and how the tests read it.

The document is not part of the repository: it is ``$FLEXHUB_EC_SPEC`` when that is set, else
``../shared/specs/energy-coordination-v1.openapi.json`` beside the checkout. Without it the
behavioural tests still run (``ec_schemas.check`` validates nothing) and the conformance tests
(marked ``ec_document``) are skipped; with ``FLEXHUB_REQUIRE_EC_SPEC=1`` (CI) a missing document
stops the run instead (``conftest.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "FLEXHUB_EC_SPEC"
REQUIRE_ENV = "FLEXHUB_REQUIRE_EC_SPEC"
BESIDE_CHECKOUT = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "specs"
    / "energy-coordination-v1.openapi.json"
)
# Where the document is looked for: only the named file when the variable is set.
SEARCHED: Path = Path(os.environ[ENV]) if os.environ.get(ENV) else BESIDE_CHECKOUT
SPEC_PATH: Path | None = SEARCHED if SEARCHED.is_file() else None
MISSING = f"official Energy Coordination document not found (set {ENV})"


def document_required() -> bool:
    """``FLEXHUB_REQUIRE_EC_SPEC`` is set: a missing document fails the run."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def load_official_document() -> dict:
    if SPEC_PATH is None:
        raise FileNotFoundError(f"{MISSING}: looked for {SEARCHED}")
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

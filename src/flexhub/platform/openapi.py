"""The platform's own OpenAPI document, as the APIs really answer.

FastAPI documents a ``422`` with its own validation-error body on every operation that takes
parameters or a body; flexhub answers bad input with ``400`` in each API's format instead
(see ``errors.py``). The generated document is corrected once, when first asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _without_422(doc: dict[str, Any]) -> dict[str, Any]:
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not responses or "422" not in responses:
                continue
            del responses["422"]
            responses.setdefault("400", {"description": "Invalid request"})
    schemas = doc.get("components", {}).get("schemas", {})
    text = str(doc.get("paths", {}))
    for name in _FASTAPI_ERROR_SCHEMAS:
        if f"#/components/schemas/{name}" not in text:
            schemas.pop(name, None)
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _without_422(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

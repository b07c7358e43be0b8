"""The platform's own OpenAPI document lists the 400 the APIs answer, never FastAPI's 422."""

from __future__ import annotations

import httpx


async def test_no_operation_documents_422(platform):
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        doc = (await http.get("/openapi.json")).json()
    operations = [
        (path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) > 60
    assert [(p, m) for p, m, op in operations if "422" in op["responses"]] == []
    so_dispatch = doc["paths"]["/so/v1/dispatches/"]["post"]["responses"]
    assert "400" in so_dispatch
    assert "HTTPValidationError" not in doc["components"]["schemas"]

"""Shared bits of the Flex Market routers: error responses for the OpenAPI document."""

from __future__ import annotations

from typing import Any

_DETAIL = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    }
}

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": 'Invalid input: {"field": ["message", ...]}',
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    401: {"description": "Missing, invalid or expired token", **_DETAIL},
    403: {"description": "The caller's role may not use this endpoint", **_DETAIL},
    413: {"description": "The request body is larger than the platform accepts", **_DETAIL},
    429: {
        "description": "Rate limited: retry after the seconds in Retry-After",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        **_DETAIL,
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such object", **_DETAIL}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not possible in the object's current state", **_DETAIL}
}

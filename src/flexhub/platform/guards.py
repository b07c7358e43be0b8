"""Checks every request passes before its route runs (an app-wide dependency).

PostgreSQL cannot store or even compare text containing NUL (``\\x00``): a query with one fails
inside the driver, which would surface as a 500. SQLite accepts it. So that both backends
answer alike and bad input always gets a 4xx, NUL is refused in path parameters, query
parameters and JSON or form bodies, with a 400 naming the parameter, in the API's own error style.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from flexhub.platform.errors import bad_request

NUL = "\x00"
MESSAGE = "must not contain NUL characters"
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _find_nul(value: Any, where: str) -> str | None:
    """The path (``a.b[2]``) of the first string holding NUL, or None."""
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if NUL in key:
                return here
            found = _find_nul(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_nul(item, f"{where}[{i}]")
            if found is not None:
                return found
    return None


async def reject_nul_characters(request: Request) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise bad_request(f"{name} {MESSAGE}", name)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise bad_request(f"{name.replace(NUL, '')} {MESSAGE}", name.replace(NUL, ""))
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    ctype = request.headers.get("content-type", "")
    body = await request.body()  # cached: the route reads the same bytes
    where: str | None = None
    if "json" in ctype and _ESCAPED_NUL.search(body):
        try:
            where = _find_nul(json.loads(body), "")
        except ValueError:
            return  # not JSON: the route reports that
    elif ctype.startswith("application/x-www-form-urlencoded") and b"%00" in body:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        where = next((k for k, v in pairs if NUL in k or NUL in v), None)
    if where is not None:
        field = where.replace(NUL, "") or "body"
        raise bad_request(f"{field} {MESSAGE}", field)

"""Checks every request passes before its route runs (an app-wide dependency).

Some text cannot be stored, so a query carrying it fails inside the driver, which would surface
as a 500. So that both backends answer alike and bad input always gets a 4xx, such text is
refused with a 400 naming the parameter, in the API's own error style:

- NUL (``\\x00``): PostgreSQL cannot store or even compare it (SQLite accepts it); refused in
  path parameters, query parameters and JSON or form bodies;
- lone UTF-16 surrogates (a ``\\ud800`` escape without its pair): they are no Unicode
  characters, cannot be encoded as UTF-8 for either database nor for the JSON answer. Only a
  JSON escape can produce one (URL and form decoding replace invalid bytes), so JSON bodies
  are checked. A proper pair (``\\ud83d\\ude00``) is one character and passes.

And so that no request can make the platform store or walk an unbounded structure, JSON
bodies hold lists of at most ``MAX_ITEMS`` items and strings of at most ``MAX_TEXT``
characters (a 400 naming the field; the body size itself is limited before it is read, see
``middleware.BodyLimit``). The APIs' own limits (id and name lengths) are lower; the batch
endpoints' ceiling (``FLEXHUB_MAX_BATCH_ITEMS``) raises the list limit when it is higher.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from flexhub.platform.errors import bad_request

MAX_ITEMS = 10_000
MAX_TEXT = 20_000
NUL = "\x00"
MESSAGE = "must not contain NUL characters"
SURROGATE_MESSAGE = "must not contain unpaired UTF-16 surrogates (\\ud800-\\udfff)"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _problem(text: str) -> str | None:
    if NUL in text:
        return MESSAGE
    if _SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


def _clean(text: str) -> str:
    """A field name fit to be shown (and encoded) in the error itself."""
    return _SURROGATE.sub("", text.replace(NUL, ""))


def _find_bad(value: Any, where: str, max_items: int = MAX_ITEMS) -> tuple[str, str] | None:
    """The path (``a.b[2]``) of the first string or key holding NUL or a lone surrogate, or of
    the first list or string over its size limit, with what is wrong with it; None when all is
    well."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return where, f"must be at most {MAX_TEXT} characters"
        message = _problem(value)
        return (where, message) if message else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            message = _problem(key)
            if message:
                return here, message
            found = _find_bad(item, here, max_items)
            if found is not None:
                return found
    if isinstance(value, list):
        if len(value) > max_items:
            return where, f"must have at most {max_items} items"
        for i, item in enumerate(value):
            found = _find_bad(item, f"{where}[{i}]", max_items)
            if found is not None:
                return found
    return None


def _max_items(request: Request) -> int:
    """The list limit: ``MAX_ITEMS``, or the batch endpoints' ceiling when that is higher."""
    ctx = getattr(request.app.state, "ctx", None)
    ceiling = getattr(getattr(ctx, "settings", None), "max_batch_items", 0)
    return max(MAX_ITEMS, ceiling)


async def reject_unstorable_text(request: Request) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise bad_request(f"{name} {MESSAGE}", name)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise bad_request(f"{name.replace(NUL, '')} {MESSAGE}", name.replace(NUL, ""))
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    ctype = request.headers.get("content-type", "").lower()
    body = await request.body()  # cached: the route reads the same bytes
    found: tuple[str, str] | None = None
    if "json" in ctype and body:
        try:
            found = _find_bad(json.loads(body), "", _max_items(request))
        except (ValueError, RecursionError):
            return  # not JSON (or nested too deep to read): the route reports that
    elif ctype.startswith("application/x-www-form-urlencoded") and b"%00" in body:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        where = next((k for k, v in pairs if NUL in k or NUL in v), None)
        found = None if where is None else (where, MESSAGE)
    if found is not None:
        field = _clean(found[0]) or "body"
        raise bad_request(f"{field} {found[1]}", field)

"""API errors and the exception handlers that render them in each API's own format.

Styles (chosen per route with ``openapi_extra={"x-error-style": ...}``, else by path; a route
whose document gives one status another body names it in ``x-error-style-by-status``):
- ``string``: a bare JSON string body (most Energy Coordination 4xx responses);
- ``problem``: ``application/problem+json`` HttpValidationProblemDetails (some EC endpoints);
- ``drf``: ``{"detail": "..."}`` or ``{"field": ["message"]}`` (Flex Market API);
- ``oauth``: ``{"error": ..., "error_description": ...}`` (the token endpoint).
Never a stack trace, never a 500 for bad input.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("flexhub.errors")

EC_PREFIX = "/energy-coordination/v1"
STYLE_KEY = "x-error-style"
STATUS_STYLE_KEY = "x-error-style-by-status"
PROBLEM = {"x-error-style": "problem"}
# For a problem+json operation whose 404 the document gives a bare JSON string body.
STRING_404 = {STATUS_STYLE_KEY: {"404": "string"}}
# For operations whose documented contract lists 400 but no 404 (e.g. GET
# /users/{userId}/locations): an unknown id is then answered with the documented 400.
NOT_FOUND_KEY = "x-not-found-status"
NO_404 = {NOT_FOUND_KEY: 400}

_TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
BUSY_RETRY_SECONDS = 1


class ApiError(Exception):
    """An error to answer with: status, a human message and optional per-field messages."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers
        self.code = code


def bad_request(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, message, errors={field: [message]} if field else None)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} was not found")


def conflict(message: str, field: str | None = None) -> ApiError:
    return ApiError(409, message, errors={field: [message]} if field else None)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"}, code="invalid_token")


def _route_extra(request: Request) -> dict:
    route = request.scope.get("route")
    return getattr(route, "openapi_extra", None) or {}


def style_for(request: Request, status: int | None = None) -> str:
    extra = _route_extra(request)
    by_status = extra.get(STATUS_STYLE_KEY, {})
    if str(status) in by_status:
        return by_status[str(status)]
    if STYLE_KEY in extra:
        return extra[STYLE_KEY]
    path = request.url.path
    if path.startswith(EC_PREFIX):
        return "string"
    if path.startswith("/connect/"):
        return "oauth"
    return "drf"


def render(request: Request, err: ApiError) -> Response:
    not_found_status = _route_extra(request).get(NOT_FOUND_KEY)
    if err.status == 404 and not_found_status is not None:
        err = ApiError(not_found_status, err.message, errors=err.errors)
    style = style_for(request, err.status)
    headers = dict(err.headers or {})
    if style == "string":
        return JSONResponse(err.message, status_code=err.status, headers=headers)
    if style == "problem":
        body: dict[str, Any] = {
            "type": f"https://httpstatuses.io/{err.status}",
            "title": _TITLES.get(err.status, "Error"),
            "status": err.status,
            "detail": err.message,
            "instance": request.url.path,
        }
        if err.errors:
            body["errors"] = err.errors
        return JSONResponse(
            body, status_code=err.status, headers=headers, media_type="application/problem+json"
        )
    if style == "oauth":
        code = err.code or ("invalid_request" if err.status == 400 else "invalid_client")
        return JSONResponse(
            {"error": code, "error_description": err.message},
            status_code=err.status,
            headers=headers,
        )
    if err.errors and err.status == 400:
        return JSONResponse(err.errors, status_code=err.status, headers=headers)
    return JSONResponse({"detail": err.message}, status_code=err.status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    if not parts:
        return "body" if loc and loc[0] == "body" else (str(loc[0]) if loc else "request")
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def is_json(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` type (parameters aside)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def validation_error(exc: RequestValidationError, json_body: bool = True) -> ApiError:
    """The 400 for a request FastAPI could not validate; ``json_body`` False when the request
    did not say its body is JSON (FastAPI then does not read it as JSON)."""
    errors: dict[str, list[str]] = {}
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        kind = e.get("type", "")
        if kind == "json_invalid":
            field, msg = "body", "The request body is not valid JSON."
        elif kind == "missing" and loc == ("body",):
            field, msg = "body", "A request body is required."
        elif loc == ("body",) and not json_body:
            field, msg = "body", "The request body must be JSON sent as application/json."
        else:
            field, msg = _field_path(loc), str(e.get("msg", "is invalid"))
            if kind == "extra_forbidden":
                msg = "is not a known field"
        errors.setdefault(field, []).append(msg)
    summary = "; ".join(f"{f}: {', '.join(m)}" for f, m in errors.items())
    return ApiError(400, f"Invalid request. {summary}", errors=errors)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        json_body = is_json(request.headers.get("content-type"))
        return render(request, validation_error(exc, json_body))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and message == "Not Found":
            message = "No such resource"
        return render(request, ApiError(exc.status_code, message, headers=exc.headers))

    @app.exception_handler(sa_exc.TimeoutError)
    async def _busy(request: Request, exc: sa_exc.TimeoutError) -> Response:
        # every database connection of this process is in use: a load, not a fault
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        return render(
            request,
            ApiError(
                503,
                "The service is busy; try again shortly",
                headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
            ),
        )

    # a handler of its own (not the catch-all's): Starlette re-raises what reaches the
    # catch-all after answering, and the server then closes the client's connection
    @app.exception_handler(sa_exc.DBAPIError)
    async def _database(request: Request, exc: sa_exc.DBAPIError) -> Response:
        return _unexpected_or_lost(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _unexpected_or_lost(request, exc)


def _unexpected_or_lost(request: Request, exc: Exception) -> Response:
    if connection_lost(exc):
        # the database ended the connection under the request (a restart, a failover,
        # pg_terminate_backend): nothing was committed, the pool reconnects; try again
        log.warning(
            "database connection lost during %s %s: %s", request.method, request.url.path, exc
        )
        return render(
            request,
            ApiError(
                503,
                "The database connection was lost; try again shortly",
                headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
            ),
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return render(request, ApiError(500, "Internal server error"))


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` or what caused it is the database connection going away: SQLAlchemy's
    disconnect (``connection_invalidated``), or the driver's "connection closed" and "the
    server is shutting it down" (asyncpg raises a state error on the dead connection's
    rollback, with the disconnect as its context)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, sa_exc.DBAPIError) and cur.connection_invalidated:
            return True
        if type(cur).__name__ in _DISCONNECTS:
            return True
        cur = cur.__cause__ or cur.__context__
    return False


# asyncpg's, by name (no import of the driver here): the connection closed under an operation,
# and the server ending the session (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03)
_DISCONNECTS = frozenset(
    {
        "ConnectionDoesNotExistError",
        "AdminShutdownError",
        "CrashShutdownError",
        "CannotConnectNowError",
    }
)

"""Pure ASGI middleware every request passes through (outermost first, see ``app.py``):

- :class:`RequestMetrics`: Prometheus counts and latency per route template and status;
- :class:`PublicOrigin`: the request's scheme and host are those of ``FLEXHUB_PUBLIC_URL``,
  never the client's ``Host`` header, so links (``next``/``previous``) and redirects (the
  trailing slash one) always point at the platform;
- :class:`BodyLimit`: request bodies are refused with a 413 beyond a size, announced
  (``Content-Length``) or counted as they stream in, before they are buffered.

Proxy headers (``X-Forwarded-For``) are believed only from ``FLEXHUB_TRUSTED_PROXIES`` (uvicorn's
``ProxyHeadersMiddleware``, added by the app factory when that is set).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flexhub.platform import errors

REQUESTS = Counter(
    "flexhub_http_requests_total",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "flexhub_http_request_seconds",
    "HTTP request duration, by route template",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/energy-coordination/v1/users/{userId}``), or
    ``unmatched``: never the path itself, whose ids would make a label per object."""
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    # a route of an included router knows its path without the router's prefix
    if scope["path"].startswith(errors.EC_PREFIX) and not template.startswith(errors.EC_PREFIX):
        template = errors.EC_PREFIX + template
    return template


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope)
            method = scope.get("method", "")
            REQUESTS.labels(method, route, str(status[0])).inc()
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - start)


class PublicOrigin:
    """Every request is taken to have been made at the public URL's scheme and host."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.scheme = parts.scheme or "http"
        self.host = parts.netloc.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):  # in place: outer middleware reads the route
            scope["scheme"] = self.scheme
            headers = [(k, v) for k, v in scope.get("headers", []) if k != b"host"]
            scope["headers"] = [(b"host", self.host), *headers]
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyLimit:
    """413 for a body over ``limit_for(path)`` bytes: at once when ``Content-Length`` says so,
    otherwise as soon as the streamed body passes it (reading stops there)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        exc = BodyTooLarge(limit)
        response = errors.render(
            Request(scope, receive),
            errors.ApiError(413, exc.detail, headers={"Connection": "close"}),
        )
        await response(scope, receive, send)


def body_limit_for(max_body: int, max_batch_body: int) -> Callable[[str], int]:
    """The limit of a path: larger for the batch endpoints and reports."""

    def limit_for(path: str) -> int:
        batch = path.rstrip("/").endswith("/batch") or path.rstrip("/") in (
            errors.EC_PREFIX + "/reports",
            errors.EC_PREFIX + "/operator/neighbourhoods",
        )
        return max_batch_body if batch else max_body

    return limit_for

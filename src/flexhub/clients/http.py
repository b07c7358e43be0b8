"""The one HTTP path every client request takes (:class:`ApiSession`): base URL, bearer token
(cached, refreshed before expiry, fetched again once when the API answers 401), retries
(:mod:`flexhub.clients.retry`), JSON in and out, and :class:`ApiError` for anything outside 2xx.

The aiohttp session is the caller's when one is handed in (it is then left open on
``close()``), else the client's own, made on first use. Tokens and secrets are never logged:
the debug log names only the method, the URL and the status.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any, TypeVar

import aiohttp
from pydantic import BaseModel, TypeAdapter, ValidationError

from flexhub.clients.errors import ApiError, TransportError, UnexpectedAnswer, parse_retry_after
from flexhub.clients.retry import UNANSWERED, UNSENT, RetryPolicy, retryable
from flexhub.clients.tokens import TokenCache

log = logging.getLogger("flexhub.clients")

USER_AGENT = "flexhub-client/0.1"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


M = TypeVar("M", bound=BaseModel)


def body_json(value: Any) -> Any:
    """A request body as JSON values: pydantic models by their wire names, ``None`` left out
    (an absent optional field; both APIs read ``null`` the same way)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [body_json(v) for v in value]
    return value


def as_model(model: type[M], value: M | dict[str, Any]) -> M:
    """A request body given as the wire model or as a dict (validated into it here, so that a
    mistake is a ValidationError before anything is sent)."""
    return value if isinstance(value, model) else model.model_validate(value)


def typed(model: type[M], answer: Any) -> M:
    """``answer`` read as ``model``; UnexpectedAnswer when it does not fit."""
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        raise UnexpectedAnswer(model.__name__, str(exc)) from None


@functools.cache
def _list_of(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[model])


def typed_list(model: type[M], items: Any) -> list[M]:
    """A list of ``model`` in one validation (a page of 1,000 items costs one call)."""
    try:
        return _list_of(model).validate_python(items or [])
    except ValidationError as exc:
        raise UnexpectedAnswer(f"list of {model.__name__}", str(exc)) from None


def query(params: dict[str, Any] | None) -> dict[str, str]:
    """Query parameters without the ``None`` ones; booleans as ``true``/``false``."""
    out: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


IDLE_KEEPALIVE_SECONDS = 4.0


class ApiSession:
    """HTTP for one API and one set of credentials (``tokens`` None: no authentication)."""

    def __init__(
        self,
        base_url: str,
        *,
        tokens: TokenCache | None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.retry = retry or RetryPolicy()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owns_session = session is None
        self.sent = 0  # HTTP requests sent, retries and token requests included
        self.reauthentications = 0  # tokens fetched again after a 401

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the aiohttp session handed to this client is closed")
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT},
                # let idle connections go before a server does (uvicorn's default is 5 s): a
                # connection the server has just closed is otherwise reused and the request
                # waits for its timeout
                connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_KEEPALIVE_SECONDS),
            )
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + (path if path.startswith("/") else "/" + path)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        auth: bool = True,
        idempotent: bool | None = None,
    ) -> Any:
        """The parsed JSON answer (None for an empty one); ApiError off 2xx."""
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url(path)
        body = body_json(json_body)
        if not auth or self.tokens is None:
            return await self._with_retries(method, url, params, body, None, None, idempotent)
        token = await self.tokens.get(self._token_post)
        try:
            return await self._with_retries(method, url, params, body, None, token, idempotent)
        except ApiError as exc:
            if exc.status != 401:
                raise
        # Refused (expired early, revoked, keys rotated): one new token, one more try.
        self.tokens.invalidate(token)
        self.reauthentications += 1
        token = await self.tokens.get(self._token_post)
        return await self._with_retries(method, url, params, body, None, token, idempotent)

    async def _token_post(self, url: str, *, data: Any = None, json: Any = None) -> Any:
        """POST to a token endpoint (not authenticated; safe to repeat)."""
        return await self._with_retries("POST", self.url(url), None, json, data, None, True)

    async def _with_retries(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        body: Any,
        form: Any,
        token: str | None,
        idempotent: bool,
    ) -> Any:
        """The first try goes out directly (most requests succeed: they pay nothing for the
        retry machinery); a failure worth retrying is handed to tenacity as its first attempt,
        so that its stop, wait (``Retry-After``) and retry rules decide everything after."""
        try:
            try:
                return await self._send(method, url, params, body, form, token)
            except Exception as exc:
                if not retryable(exc, idempotent):
                    raise
                first: Exception | None = exc
            async for attempt in self.retry.retrying(idempotent):
                with attempt:
                    if first is not None:
                        failed, first = first, None
                        raise failed
                    return await self._send(method, url, params, body, form, token)
        except UNSENT + UNANSWERED as exc:
            raise TransportError(method, url, exc) from exc
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _send(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        body: Any,
        form: Any,
        token: str | None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.sent += 1
        async with self.session.request(
            method,
            url,
            params=query(params),
            json=body if form is None and body is not None else None,
            data=form,
            headers=headers,
            timeout=self.timeout,
        ) as response:
            raw = await response.read()
            status = response.status
            log.debug("%s %s -> %s", method, url, status)
            parsed = _parse(raw, response.content_type)
            if 200 <= status < 300:
                return parsed
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise ApiError(status, method, url, parsed, retry_after)


def _parse(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type or text[:1] in '{["':
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text

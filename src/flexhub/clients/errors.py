"""What the clients raise: :class:`ApiError` for an answer outside 2xx (status, the parsed
error body in the API's own format, a readable message, ``Retry-After``), :class:`TransportError`
when no answer came (connection refused or reset, timeout) after the retries."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from flexhub.clock import utcnow


class ClientError(Exception):
    """Base of every error a flexhub client raises."""


class TransportError(ClientError):
    """No HTTP answer: the connection failed or timed out (after the retries)."""

    def __init__(self, method: str, url: str, cause: BaseException) -> None:
        self.method = method
        self.url = url
        super().__init__(f"{method} {url}: no answer ({type(cause).__name__}: {cause})")


class UnexpectedAnswer(ClientError):
    """A 2xx answer that is not what the API documents (the wire model refused it)."""

    def __init__(self, model: str, problem: str) -> None:
        self.model = model
        super().__init__(f"the answer is not a {model}: {problem}")


class ApiError(ClientError):
    """An answer outside 2xx.

    ``body`` is the parsed error body as the API sent it: a bare JSON string or problem+json
    (Energy Coordination), ``{"detail": ...}`` or ``{"field": [...]}`` (Flex Market),
    ``{"error", "error_description"}`` (OAuth token endpoints); text when it was not JSON.
    ``detail`` is the message read from it; ``retry_after`` the seconds of ``Retry-After``.
    """

    def __init__(
        self,
        status: int,
        method: str,
        url: str,
        body: Any,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body
        self.detail = describe(body)
        self.retry_after = retry_after
        super().__init__(f"{method} {url} answered {status}: {self.detail}")


def describe(body: Any) -> str:
    """A one-line message from an error body of either API (or the token endpoints)."""
    if body is None or body == "":
        return "(no body)"
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(describe(item) for item in body)
    if not isinstance(body, dict):
        return str(body)
    if "error_description" in body or "error" in body:  # OAuth
        return ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
    if "detail" in body or "title" in body:  # DRF detail, problem+json
        text = str(body.get("detail") or body.get("title"))
        fields = body.get("errors")
        if isinstance(fields, dict) and fields:
            text += " (" + _fields(fields) + ")"
        return text
    return _fields(body)  # DRF validation errors: {"field": ["message", ...]}


def _fields(errors: dict[str, Any]) -> str:
    parts = []
    for name, messages in errors.items():
        if isinstance(messages, list):
            messages = ", ".join(describe(m) for m in messages)
        elif isinstance(messages, dict):
            messages = _fields(messages)
        parts.append(f"{name}: {messages}")
    return "; ".join(parts)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (seconds from now)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())

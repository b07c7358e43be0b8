"""The agent's metrics (Prometheus text at ``/metrics``, one registry per agent) and its log
context: every line logged while handling a message carries its event / instruction id
(``log_context(event="...")`` sets it for the task and what it awaits)."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram

_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "flexhub_agent_log_context", default=()
)


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    merged = {**dict(_context.get()), **{k: v for k, v in ids.items() if v}}
    token = _context.set(tuple(sorted(merged.items())))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds ``ctx`` (``key=value`` of the current ids, or ``-``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = " ".join(f"{k}={v}" for k, v in _context.get()) or "-"
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(ctx)s] %(message)s"


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger("flexhub.agent")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "agent_received", "Webhooks received and stored", ["source"], registry=r
        )
        self.rejected = Counter(
            "agent_rejected", "Webhooks refused, by reason", ["source", "reason"], registry=r
        )
        self.duplicates = Counter(
            "agent_duplicates", "Messages already in the inbox", ["source"], registry=r
        )
        self.actions = Counter(
            "agent_actions", "Actions taken (API answers, asset commands)", ["kind"], registry=r
        )
        self.reports = Counter("agent_reports", "Reports by outcome", ["outcome"], registry=r)
        self.reconciled = Counter(
            "agent_reconciled",
            "Messages found by polling that no webhook brought",
            ["source"],
            registry=r,
        )
        self.answer_seconds = Histogram(
            "agent_webhook_answer_seconds",
            "Time to verify, store and answer a webhook",
            ["source"],
            registry=r,
        )

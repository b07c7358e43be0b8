"""The agent's webhook receiver (aiohttp):

- ``POST /notify``: Energy Coordination. ``X-Payload-Signature`` is checked on the raw bytes
  (constant time, ``flexhub.signing``) before anything is parsed; 400 when it is missing or
  does not match, and nothing is stored; 200 once the notification is in the inbox (or was
  already: a duplicate is answered 200 and stored once).
- ``POST /flex/webhook``: Flex Market, a compact JWS (``application/jwt``) verified with the
  platform's key (``verify.WebhookKeys``); a dispatch instruction's SO signature is checked
  next: one that fails is not stored but rejected through the API (a job), never acted on.
- ``/healthz`` and ``/metrics``.

Processing happens after the answer (``processor``), woken by ``on_stored``."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from flexhub.agent.inbox import AgentStore
from flexhub.agent.observe import Metrics, log_context
from flexhub.agent.verify import SoSignatures, WebhookKeys
from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, SignatureError, verify_payload_signature
from flexhub.wire.coordination.events import EventNotification
from flexhub.wire.flexmarket.webhooks import INSTRUCTION_EVENTS, WebhookClaims

log = logging.getLogger(__name__)
MAX_BODY = 20_000_000

Refusal = Callable[[dict[str, Any], str], Awaitable[None]]


def ec_keys(notification_id: str | None, event_id: str) -> list[str]:
    return [f"ec:notification:{notification_id}" if notification_id else "", f"ec:event:{event_id}"]


def fm_keys(jti: str | None, event: str, data: dict[str, Any]) -> list[str]:
    subject = data.get("id", "")
    if event.startswith("obligation."):
        subject = f"{subject}:{data.get('modified', '')}"
    return [f"fm:jti:{jti}" if jti else "", f"fm:{event}:{subject}"]


class Receiver:
    def __init__(
        self,
        store: AgentStore,
        metrics: Metrics,
        *,
        webhook_secret: str | None,
        webhook_keys: WebhookKeys | None,
        so_signatures: SoSignatures | None,
        on_stored: Callable[[], None],
        on_refused_instruction: Refusal,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self._secret = webhook_secret
        self.webhook_keys = webhook_keys
        self.so_signatures = so_signatures
        self.on_stored = on_stored
        self.on_refused_instruction = on_refused_instruction

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/notify", self.notify)
        app.router.add_post("/flex/webhook", self.flex_webhook)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_text)
        return app

    def _refuse(self, source: str, reason: str, detail: str) -> web.Response:
        self.metrics.rejected.labels(source, reason).inc()
        log.warning("refused a %s webhook (%s): %s", source, reason, detail)
        return web.json_response({"detail": detail}, status=400)

    async def notify(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        if self._secret is None:
            return web.json_response(
                {"detail": "Energy Coordination is not configured"}, status=404
            )
        raw = await request.read()
        try:
            verify_payload_signature(
                self._secret, raw, request.headers.get(PAYLOAD_SIGNATURE_HEADER)
            )
        except SignatureError as exc:
            missing = not request.headers.get(PAYLOAD_SIGNATURE_HEADER)
            return self._refuse("ec", "missing_signature" if missing else "bad_signature", str(exc))
        try:
            note = EventNotification.model_validate_json(raw)
        except ValidationError as exc:
            return self._refuse(
                "ec", "malformed", f"not an EventNotification: {exc.error_count()} errors"
            )
        with log_context(event=note.eventId, notification=note.notificationId):
            body = {
                "eventId": note.eventId,
                "createdAt": note.eventCreatedAtUtc.isoformat(),
                "notificationType": note.notificationType,
                "payload": note.payload.model_dump(mode="json"),
            }
            stored = await self.store.store_message(
                "ec",
                note.payload.payloadType,
                note.eventId,
                body,
                ec_keys(note.notificationId, note.eventId),
            )
            self._count("ec", stored, started)
        return web.json_response({"status": "ok"})

    async def flex_webhook(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        if self.webhook_keys is None:
            return web.json_response({"detail": "Flex Market is not configured"}, status=404)
        raw = await request.read()
        try:
            token = raw.decode("ascii").strip()
            claims: WebhookClaims = await self.webhook_keys.verify(token)
        except UnicodeDecodeError:
            return self._refuse("fm", "malformed", "the body is not a compact JWS")
        except SignatureError as exc:
            reason = "expired" if "expired" in str(exc) else "bad_token"
            return self._refuse("fm", reason, str(exc))
        with log_context(event=claims.jti, instruction=str(claims.data.get("id", "")) or None):
            if claims.event in INSTRUCTION_EVENTS:
                try:
                    instruction = claims.instruction()
                except ValidationError:
                    return self._refuse("fm", "malformed", "data is not a dispatch instruction")
                problem = self.so_signatures.check(instruction) if self.so_signatures else None
                if problem and instruction.instruction_type == "dispatch":
                    self.metrics.rejected.labels("fm", "so_signature").inc()
                    log.warning("SO signature refused: %s", problem)
                    await self.on_refused_instruction(claims.data, f"SO signature: {problem}")
                    return web.json_response({"status": "refused"})
            stored = await self.store.store_message(
                "fm",
                claims.event,
                str(claims.data.get("id", "")),
                {"event": claims.event, "data": claims.data, "jti": claims.jti},
                fm_keys(claims.jti, claims.event, claims.data),
            )
            self._count("fm", stored, started)
        return web.json_response({"status": "ok"})

    def _count(self, source: str, stored: int | None, started: float) -> None:
        if stored is None:
            self.metrics.duplicates.labels(source).inc()
            log.info("duplicate delivery: already in the inbox")
        else:
            self.metrics.received.labels(source).inc()
            log.info("stored as inbox message %s", stored)
            self.on_stored()
        self.metrics.answer_seconds.labels(source).observe(time.perf_counter() - started)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics_text(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

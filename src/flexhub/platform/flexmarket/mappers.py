"""Every Flex Market response and webhook body, built from the stored rows as the wire models
of ``flexhub.wire.flexmarket`` (snake_case, decimal strings, UTC ``Z`` times).

One function per object; the REST responses and the webhook ``data`` both come from here, so a
webhook carries exactly what a GET of the same object returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from flexhub.store.flexmarket import (
    FmAsset,
    FmAvailabilityVariation,
    FmCompetition,
    FmDispatchInstruction,
    FmObligation,
    FmServicePeriod,
    FmServiceWindow,
)
from flexhub.store.flexmarket_webhooks import FmEvent, FmSubscription
from flexhub.wire.flexmarket.assets import AssetOut
from flexhub.wire.flexmarket.competitions import CompetitionOut, ServiceWindowOut
from flexhub.wire.flexmarket.dispatches import InstructionOut, WebhookDeliveryOut
from flexhub.wire.flexmarket.obligations import ObligationOut, VariationOut
from flexhub.wire.flexmarket.values import day, duration, hms, iso, quantity
from flexhub.wire.flexmarket.webhooks import Delivery, PublicKey, Subscription, WebhookClaims

TOKEN_LIFETIME_SECONDS = 300  # of a webhook delivery's JWS


def competition_status(comp: FmCompetition, now: datetime) -> str:
    if comp.awarded:
        return "awarded"
    if now < comp.bidding_open:
        return "pending"
    return "open" if now < comp.bidding_close else "closed"


def competition(
    comp: FmCompetition,
    periods: Sequence[FmServicePeriod],
    windows: Sequence[FmServiceWindow],
    now: datetime,
) -> CompetitionOut:
    by_period: dict[str, list[FmServiceWindow]] = {}
    for w in sorted(windows, key=lambda w: w.position):
        by_period.setdefault(w.period_id, []).append(w)
    return CompetitionOut.model_validate(
        {
            "id": comp.id,
            "ref": comp.ref,
            "name": comp.name,
            "status": competition_status(comp, now),
            "need_direction": comp.need_direction,
            "power_type": comp.power_type,
            "currency": comp.currency,
            "area": comp.area,
            "postcodes": list(comp.postcodes or []),
            "timezone": comp.timezone,
            "bank_holiday_dates": list(comp.bank_holiday_dates or []),
            "bidding_open": iso(comp.bidding_open),
            "bidding_close": iso(comp.bidding_close),
            "respond_within": duration(comp.respond_within_seconds),
            "service_periods": [
                {
                    "id": p.id,
                    "name": p.name,
                    "start": day(p.start),
                    "end": day(p.end),
                    "service_windows": [window(w) for w in by_period.get(p.id, [])],
                }
                for p in sorted(periods, key=lambda p: p.position)
            ],
            "created": iso(comp.created),
            "modified": iso(comp.modified),
        }
    )


def window(w: FmServiceWindow) -> ServiceWindowOut:
    return ServiceWindowOut.model_validate(
        {
            "id": w.id,
            "name": w.name,
            "start_time": hms(w.start_time),
            "end_time": hms(w.end_time),
            "service_days": list(w.service_days),
            "bank_holidays": w.bank_holidays,
        }
    )


def obligation(ob: FmObligation) -> ObligationOut:
    return ObligationOut.model_validate(
        {
            "id": ob.id,
            "competition_id": ob.competition_id,
            "bid_id": ob.bid_id,
            "service_window_id": ob.service_window_id,
            "provider": ob.provider_tenant_id,
            "status": ob.status,
            "start": day(ob.start),
            "end": day(ob.end),
            "service_days": list(ob.service_days),
            "bank_holidays": ob.bank_holidays,
            "start_time": hms(ob.start_time),
            "end_time": hms(ob.end_time),
            "capacity": ob.capacity,
            "max_runtime": duration(ob.max_runtime_seconds),
            "need_direction": ob.need_direction,
            "rates": [dict(r) for r in ob.rates],
            "assets": {
                "flex": list(ob.assets.get("flex", [])),
                "planned": list(ob.assets.get("planned", [])),
            },
            "created": iso(ob.created),
            "modified": iso(ob.modified),
        }
    )


def asset(a: FmAsset) -> AssetOut:
    return AssetOut.model_validate(
        {
            "id": a.id,
            "created": iso(a.created),
            "modified": iso(a.modified),
            "provider": a.provider_tenant_id,
            "ref": a.ref,
            "name": a.name,
            "status": a.status,
            "asset_category": a.asset_category,
            "asset_type": a.asset_type,
            "voltage_level": a.voltage_level,
            "country_code": a.country_code,
            "postcode": a.postcode,
            "latitude": a.latitude,
            "longitude": a.longitude,
            "import_meter_id": a.import_meter_id,
            "export_meter_id": a.export_meter_id,
            "active_import_capacity": a.active_import_capacity,
            "active_export_capacity": a.active_export_capacity,
            "reactive_import_capacity": a.reactive_import_capacity,
            "reactive_export_capacity": a.reactive_export_capacity,
            "response_time": duration(a.response_time_seconds),
            "min_runtime": duration(a.min_runtime_seconds),
            "max_runtime": duration(a.max_runtime_seconds),
            "recovery_time": duration(a.recovery_time_seconds),
        }
    )


def variation(v: FmAvailabilityVariation) -> VariationOut:
    return VariationOut.model_validate(
        {
            "id": v.id,
            "obligation_id": v.obligation_id,
            "provider": v.provider_tenant_id,
            "start": iso(v.start),
            "end": iso(v.end),
            "available_capacity": v.available_capacity,
            "reason": v.reason,
            "created": iso(v.created),
        }
    )


def instruction(d: FmDispatchInstruction) -> InstructionOut:
    """The signed fields are shown exactly as the SO sent them, so that the provider can
    rebuild the canonical document the SO signed."""
    signed = d.signed_fields
    hours = Decimal((d.end - d.start).total_seconds()) / Decimal(3600)
    return InstructionOut.model_validate(
        {
            "id": d.id,
            "so_reference": signed["so_reference"],
            "obligation_id": signed["obligation_id"],
            "competition_id": d.competition_id,
            "flex_provider_id": d.provider_tenant_id,
            "asset_ids": list(d.asset_ids),
            "instruction_type": signed["instruction_type"],
            "stops": d.stops,
            "stopped_by": d.stopped_by,
            "start": signed["start"],
            "end": signed["end"],
            "hours": quantity(hours),
            "capacity": signed["capacity"],
            "mwh": quantity(Decimal(d.capacity) * hours),
            "need_direction": signed["need_direction"],
            "power_type": d.power_type,
            "status": d.status,
            "respond_by": iso(d.respond_by),
            "responded_at": iso(d.responded_at),
            "reason": d.reason,
            "exceeds_declared_availability": d.exceeds_declared_availability,
            "signature": d.signature,
            "signature_algorithm": d.signature_algorithm,
            "created": iso(d.created),
            "modified": iso(d.modified),
        }
    )


def subscription(sub: FmSubscription) -> Subscription:
    return Subscription(
        id=sub.id,
        url=sub.url,
        events=list(sub.events),
        active=sub.active,
        created=iso(sub.created),
        modified=iso(sub.modified),
    )


def delivery(a: DeliveryAttempt) -> Delivery:
    return Delivery(
        id=a.id,
        notification_id=a.outbox_id,
        subscription_id=a.subscription_id,
        event_id=a.event_id,
        event=a.event_type,
        url=a.url,
        attempt=a.attempt,
        attempted_at=iso(a.attempted_at),
        status_code=a.status_code,
        duration_ms=a.duration_ms,
        timed_out=a.timed_out,
        succeeded=a.succeeded,
        error=a.error,
    )


def delivery_state(row: OutboxRow) -> WebhookDeliveryOut:
    """How one notification about an object is being delivered (for the SO: no ids or URLs
    of the provider's subscriptions)."""
    return WebhookDeliveryOut(
        event=row.event_type,
        event_id=row.event_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=iso(row.next_attempt_at) if row.status == "pending" else None,
        completed_at=iso(row.completed_at),
    )


def public_key(kid: str, algorithm: str, pem: str) -> PublicKey:
    return PublicKey(kid=kid, algorithm=algorithm, public_key=pem)


def claims(event: FmEvent, issuer: str, now: int) -> WebhookClaims:
    """The claims of one delivery attempt of ``event``, issued at ``now`` (Unix time)."""
    return WebhookClaims(
        iss=issuer,
        iat=now,
        exp=now + TOKEN_LIFETIME_SECONDS,
        jti=event.id,
        event=event.event_type,
        data=event.data,
    )

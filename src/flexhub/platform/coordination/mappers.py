"""Every Energy Coordination response and webhook body, built from the stored rows as the wire
models of ``flexhub.wire.coordination`` (camelCase, as the official document)."""

from __future__ import annotations

from datetime import datetime

from flexhub.platform.engines.compensation import UserCompensation
from flexhub.store.coordination import (
    EcEnrollment,
    EcEvent,
    EcLocation,
    EcReport,
    EcResource,
    EcWebhook,
)
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from flexhub.wire.coordination.events import EventNotification, GetEventResponse
from flexhub.wire.coordination.locations import Coordinate, GetLocationResponse
from flexhub.wire.coordination.program import (
    GetMpidEligibilityResponse,
    GetUserCompensationForCurrentMonthResponse,
    GetUserEligibilityResponse,
    GetUserEnrollmentResponse,
    LocationCompensation,
    Period,
    Problem,
)
from flexhub.wire.coordination.reports import GetReportResponse
from flexhub.wire.coordination.resources import GetResourceResponse
from flexhub.wire.coordination.users import GetUserResponse
from flexhub.wire.coordination.webhooks import (
    GetWebhookNotificationLogByIdResponse,
    GetWebhookResponse,
    WebhookNotificationLog,
)

DEFAULT_CURRENCY = "NOK"


def user(user_id: str) -> GetUserResponse:
    return GetUserResponse(userId=user_id)


def location(loc: EcLocation, meter_point_ids: list[str]) -> GetLocationResponse:
    """``meterPointId`` is the first meter (deprecated); no coordinates: left out."""
    coordinates = None
    if loc.latitude is not None and loc.longitude is not None:
        coordinates = Coordinate(latitude=loc.latitude, longitude=loc.longitude)
    return GetLocationResponse(
        locationId=loc.location_id,
        locationType=loc.location_type,
        coordinates=coordinates,
        meterPointId=meter_point_ids[0] if meter_point_ids else None,
        meterPointIds=list(meter_point_ids),
        userId=loc.user_id,
    )


def resource(res: EcResource) -> GetResourceResponse:
    """Also ``GetLocationBoundResourceResponse`` (vehicles have no location)."""
    return GetResourceResponse(
        resourceId=res.resource_id,
        resourceType=res.resource_type,
        userId=res.user_id,
        locationId=res.location_id,
        meterPointId=res.meter_point_id,
    )


def enrollment(user_id: str, row: EcEnrollment | None) -> GetUserEnrollmentResponse:
    return GetUserEnrollmentResponse(
        isEnrolled=row is not None,
        userId=user_id,
        enrollmentId=row.enrollment_id if row else None,
        enrollmentDate=row.enrolled_at if row else None,
    )


def user_eligibility(user_id: str, eligible: bool) -> GetUserEligibilityResponse:
    return GetUserEligibilityResponse(userId=user_id, isEligible=eligible)


def meter_eligibility(meter_point_id: str, eligible: bool) -> GetMpidEligibilityResponse:
    return GetMpidEligibilityResponse(meterPointId=meter_point_id, isEligible=eligible)


def compensation(comp: UserCompensation) -> GetUserCompensationForCurrentMonthResponse:
    return GetUserCompensationForCurrentMonthResponse(
        userId=comp.user_id,
        period=Period(from_=comp.period_from, to=comp.period_to),
        locationCompensations=[
            LocationCompensation(
                locationId=item.location_id,
                meterPointIds=item.meter_point_ids,
                activeAmount=round(item.active, 2),
                blockedAmount=round(item.blocked, 2),
                currency=item.currency or DEFAULT_CURRENCY,
                problems=[
                    Problem(problemType=kind, message=message)
                    for kind, message in item.problems.items()
                ],
            )
            for item in comp.locations
        ],
    )


def event(row: EcEvent) -> GetEventResponse:
    return event_of(row.id, row.created_at, row.payload)


def event_of(event_id: str, created_at: datetime, payload: dict) -> GetEventResponse:
    return GetEventResponse.model_validate(
        {"id": event_id, "createdAt": created_at, "payload": payload}
    )


def notification(row: OutboxRow, ev: EcEvent, sent: datetime) -> EventNotification:
    """The body of one delivery attempt of ``ev`` to the webhook of ``row``."""
    return EventNotification.model_validate(
        {
            "notificationId": row.id,
            "eventId": ev.id,
            "eventCreatedAtUtc": ev.created_at,
            "notificationSentUtc": sent,
            "notificationType": row.event_type,
            "payload": ev.payload,
        }
    )


def report(row: EcReport) -> GetReportResponse:
    return GetReportResponse(id=row.id, eventId=row.event_id, createdAt=row.created_at)


def webhook(hook: EcWebhook) -> GetWebhookResponse:
    return GetWebhookResponse(
        webhookId=hook.id,
        webhookUrl=hook.url,
        name=hook.name,
        notificationTypes=list(hook.notification_types or []),
        enabled=hook.enabled,
        status=hook.status,
        modifiedDate=hook.modified_at,
        createdDate=hook.created_at,
        lastAnalyzedTimestamp=hook.last_analyzed_at,
    )


def log(attempt: DeliveryAttempt) -> WebhookNotificationLog:
    return WebhookNotificationLog(
        webhookId=attempt.subscription_id,
        tenantId=attempt.tenant_id,
        partnerEventId=attempt.event_id,
        notificationId=attempt.outbox_id,
        notificationType=attempt.event_type,
        notificationSent=attempt.attempted_at,
        sparkSignature=attempt.signature,
        webhookUrl=attempt.url,
        requestTimeout=attempt.timed_out,
        responseStatusCode=attempt.status_code,
        requestDurationMs=attempt.duration_ms,
    )


def log_detail(attempt: DeliveryAttempt) -> GetWebhookNotificationLogByIdResponse:
    return GetWebhookNotificationLogByIdResponse(
        webhookNotificationLog=log(attempt), notificationContent=attempt.body
    )

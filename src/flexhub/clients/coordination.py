"""The Energy Coordination API v1 client (a partner of Volue Spark, or of flexhub).

``CoordinationClient(base_url, *, client_id, client_secret, token_url=None, scope=None,
session=None, timeout=30.0, retry=None, wall_clock=None)``. ``base_url`` is the API root
(``https://<host>/energy-coordination/v1``); ``token_url`` the OAuth2 token endpoint, which at
Volue is on another host (default: ``/connect/token`` on the API's host, as flexhub serves it).

Methods (typed results are the ``flexhub.wire.coordination`` models; ``iter_*`` page through
``?page=&pageSize=``; ``list_*`` are lists the API does not page):

- users: ``iter_users``, ``get_user``, ``create_user``, ``create_users`` (batch),
  ``delete_user``
- locations: ``list_locations``, ``get_location``, ``create_location``, ``create_locations``
  (batch, with user ids), ``replace_location`` (PUT), ``update_location`` (PATCH),
  ``delete_location``
- resources: ``list_user_resources``, ``list_location_resources``,
  ``create_location_resource``, ``create_vehicle``, ``get_resource``, ``delete_resource``
- program: ``iter_eligible_users``, ``get_user_eligibility``, ``get_meter_eligibility``,
  ``get_enrollment``, ``create_enrollment``, ``delete_enrollment``, ``get_compensation``
- events and reports: ``iter_events``, ``get_event``, ``send_report``
- webhooks: ``list_webhooks``, ``get_webhook``, ``create_webhook``, ``replace_webhook`` (PUT),
  ``update_webhook`` (PATCH), ``delete_webhook``, ``set_webhook_enabled``, ``ensure_webhook``,
  ``iter_webhook_logs``, ``get_webhook_log``
- sandbox: ``simulate_price_curve``, ``simulate_user_eligibility``, ``simulate_location_lpc``,
  ``simulate_resource_lpc``, ``create_simulated_partner``, ``delete_simulated_partner``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from pydantic import BaseModel

from flexhub.clients.base import BaseClient
from flexhub.clients.http import as_model, typed, typed_list
from flexhub.clients.paging import ec_pages
from flexhub.clients.retry import RetryPolicy
from flexhub.clients.tokens import ClientCredentials
from flexhub.clock import Clock
from flexhub.wire.coordination.common import NotificationType, ResourceType
from flexhub.wire.coordination.events import GetEventResponse
from flexhub.wire.coordination.locations import (
    GetLocationResponse,
    PatchLocationRequest,
    PostLocationRequest,
    PostLocationsBatchRequest,
    PostLocationsBatchResponse,
    PostLocationWithUserRequest,
    PutLocationRequest,
)
from flexhub.wire.coordination.program import (
    GetMpidEligibilityResponse,
    GetUserCompensationForCurrentMonthResponse,
    GetUserEligibilityResponse,
    GetUserEnrollmentResponse,
)
from flexhub.wire.coordination.reports import GetReportResponse, PostReportRequest
from flexhub.wire.coordination.resources import (
    GetResourceResponse,
    GetUserResourcesResponse,
    PostLocationBoundResourceRequest,
    PostVehicleResourceRequest,
)
from flexhub.wire.coordination.simulation import (
    SimulateEventResponse,
    SimulateLocationLPCEventRequest,
    SimulatePriceCurveEventRequest,
    SimulateResourceLPCEventRequest,
)
from flexhub.wire.coordination.users import (
    GetUserResponse,
    PostUserRequest,
    PostUsersBatchRequest,
    PostUsersBatchResponse,
)
from flexhub.wire.coordination.webhooks import (
    GetWebhookNotificationLogByIdResponse,
    GetWebhookResponse,
    GetWebhooksResponse,
    PatchWebhookRequest,
    PostWebhookRequest,
    PutWebhookRequest,
    WebhookNotificationLog,
)

R = TypeVar("R", bound=BaseModel)


def _p(value: str) -> str:
    """One URL path segment (ids may hold spaces, ``:`` or non-ASCII letters)."""
    return quote(value, safe="")


def default_token_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/connect/token"


class CoordinationClient(BaseClient):
    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        token_url: str | None = None,
        scope: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        wall_clock: Clock | None = None,
    ) -> None:
        source = ClientCredentials(
            token_url or default_token_url(base_url), client_id, client_secret, scope
        )
        super().__init__(
            base_url, source, session=session, timeout=timeout, retry=retry, wall_clock=wall_clock
        )

    async def _get(self, path: str, model: type[R], **params: Any) -> R:
        return typed(model, await self.api.request("GET", path, params=params))

    async def _send(
        self, method: str, path: str, model: type[R], body: Any = None, **params: Any
    ) -> R:
        answer = await self.api.request(method, path, json_body=body, params=params)
        return typed(model, answer)

    async def _delete(self, path: str) -> None:
        await self.api.request("DELETE", path)

    # --- users -----------------------------------------------------------------------------

    def iter_users(self, *, page_size: int = 100) -> AsyncIterator[GetUserResponse]:
        return ec_pages(self.api, "/users", "users", GetUserResponse, page_size=page_size)

    async def get_user(self, user_id: str) -> GetUserResponse:
        return await self._get(f"/users/{_p(user_id)}", GetUserResponse)

    async def create_user(self, user_id: str) -> GetUserResponse:
        return await self._send("POST", "/users", GetUserResponse, PostUserRequest(userId=user_id))

    async def create_users(self, user_ids: Sequence[str]) -> list[GetUserResponse]:
        """``POST /users/batch`` (at most 1000)."""
        body = PostUsersBatchRequest(users=[PostUserRequest(userId=u) for u in user_ids])
        return (await self._send("POST", "/users/batch", PostUsersBatchResponse, body)).users

    async def delete_user(self, user_id: str) -> None:
        await self._delete(f"/users/{_p(user_id)}")

    # --- locations -------------------------------------------------------------------------

    async def list_locations(self, user_id: str) -> list[GetLocationResponse]:
        answer = await self.api.request("GET", f"/users/{_p(user_id)}/locations")
        return typed_list(GetLocationResponse, answer)

    async def get_location(self, user_id: str, location_id: str) -> GetLocationResponse:
        path = f"/users/{_p(user_id)}/locations/{_p(location_id)}"
        return await self._get(path, GetLocationResponse)

    async def create_location(
        self, user_id: str, location: PostLocationRequest | dict[str, Any]
    ) -> GetLocationResponse:
        body = as_model(PostLocationRequest, location)
        return await self._send(
            "POST", f"/users/{_p(user_id)}/locations", GetLocationResponse, body
        )

    async def create_locations(
        self, locations: Sequence[PostLocationWithUserRequest | dict[str, Any]]
    ) -> list[GetLocationResponse]:
        """``POST /users/locations/batch``: each location names its ``userId``."""
        body = PostLocationsBatchRequest(
            locations=[as_model(PostLocationWithUserRequest, loc) for loc in locations]
        )
        answer = await self._send(
            "POST", "/users/locations/batch", PostLocationsBatchResponse, body
        )
        return answer.locations

    async def replace_location(
        self, user_id: str, location_id: str, location: PutLocationRequest | dict[str, Any]
    ) -> GetLocationResponse:
        path = f"/users/{_p(user_id)}/locations/{_p(location_id)}"
        return await self._send(
            "PUT", path, GetLocationResponse, as_model(PutLocationRequest, location)
        )

    async def update_location(
        self, user_id: str, location_id: str, patch: PatchLocationRequest | dict[str, Any]
    ) -> GetLocationResponse:
        path = f"/users/{_p(user_id)}/locations/{_p(location_id)}"
        body = as_model(PatchLocationRequest, patch)
        answer = await self.api.request("PATCH", path, json_body=body, idempotent=True)
        return typed(GetLocationResponse, answer)

    async def delete_location(self, user_id: str, location_id: str) -> None:
        await self._delete(f"/users/{_p(user_id)}/locations/{_p(location_id)}")

    # --- resources -------------------------------------------------------------------------

    async def list_user_resources(self, user_id: str) -> list[GetResourceResponse]:
        path = f"/users/{_p(user_id)}/resources"
        return (await self._get(path, GetUserResourcesResponse)).resources

    async def list_location_resources(
        self, user_id: str, location_id: str
    ) -> list[GetResourceResponse]:
        path = f"/users/{_p(user_id)}/locations/{_p(location_id)}/resources"
        answer = await self.api.request("GET", path)
        return typed_list(GetResourceResponse, answer)

    async def create_location_resource(
        self,
        user_id: str,
        location_id: str,
        resource_id: str,
        resource_type: ResourceType,
        meter_point_id: str | None = None,
    ) -> GetResourceResponse:
        path = f"/users/{_p(user_id)}/locations/{_p(location_id)}/resources"
        body = PostLocationBoundResourceRequest(
            resourceId=resource_id, resourceType=resource_type, meterPointId=meter_point_id
        )
        return await self._send("POST", path, GetResourceResponse, body)

    async def create_vehicle(
        self, user_id: str, resource_id: str, resource_type: ResourceType = "Vehicle"
    ) -> GetResourceResponse:
        body = PostVehicleResourceRequest(resourceId=resource_id, resourceType=resource_type)
        return await self._send("POST", f"/users/{_p(user_id)}/vehicles", GetResourceResponse, body)

    async def get_resource(self, resource_id: str) -> GetResourceResponse:
        return await self._get(f"/resources/{_p(resource_id)}", GetResourceResponse)

    async def delete_resource(self, resource_id: str) -> None:
        await self._delete(f"/resources/{_p(resource_id)}")

    # --- the SPARK program -----------------------------------------------------------------

    def iter_eligible_users(self, *, page_size: int = 100) -> AsyncIterator[GetUserResponse]:
        return ec_pages(self.api, "/users/eligible", "users", GetUserResponse, page_size=page_size)

    async def get_user_eligibility(self, user_id: str) -> GetUserEligibilityResponse:
        return await self._get(f"/users/{_p(user_id)}/eligibility", GetUserEligibilityResponse)

    async def get_meter_eligibility(self, meter_point_id: str) -> GetMpidEligibilityResponse:
        return await self._get(f"/meters/{_p(meter_point_id)}/eligible", GetMpidEligibilityResponse)

    async def get_enrollment(self, user_id: str) -> GetUserEnrollmentResponse:
        return await self._get(f"/users/{_p(user_id)}/enrollment", GetUserEnrollmentResponse)

    async def create_enrollment(self, user_id: str) -> GetUserEnrollmentResponse:
        """Enroll the user in the program (``POST /users/{userId}/enrollment``)."""
        path = f"/users/{_p(user_id)}/enrollment"
        answer = await self.api.request("POST", path, idempotent=True)
        return typed(GetUserEnrollmentResponse, answer)

    async def delete_enrollment(self, user_id: str) -> None:
        await self._delete(f"/users/{_p(user_id)}/enrollment")

    async def get_compensation(self, user_id: str) -> GetUserCompensationForCurrentMonthResponse:
        path = f"/users/{_p(user_id)}/compensation"
        return await self._get(path, GetUserCompensationForCurrentMonthResponse)

    # --- events and reports ----------------------------------------------------------------

    def iter_events(self, *, page_size: int = 100) -> AsyncIterator[GetEventResponse]:
        """Newest first, as the API lists them."""
        return ec_pages(self.api, "/events", "events", GetEventResponse, page_size=page_size)

    async def get_event(self, event_id: str) -> GetEventResponse:
        return await self._get(f"/events/{_p(event_id)}", GetEventResponse)

    async def send_report(self, report: PostReportRequest | dict[str, Any]) -> GetReportResponse:
        """``POST /reports``. Not repeated on a 5xx or a lost answer (the API would store it
        twice): the caller decides, e.g. after looking for its effect."""
        return await self._send(
            "POST", "/reports", GetReportResponse, as_model(PostReportRequest, report)
        )

    # --- webhooks --------------------------------------------------------------------------

    async def list_webhooks(self) -> list[GetWebhookResponse]:
        return (await self._get("/webhooks", GetWebhooksResponse)).webhooks

    async def get_webhook(self, webhook_id: str) -> GetWebhookResponse:
        return await self._get(f"/webhooks/{_p(webhook_id)}", GetWebhookResponse)

    async def create_webhook(
        self,
        webhook_url: str,
        notification_types: Sequence[NotificationType] | None = None,
        *,
        secret: str | None = None,
        name: str | None = None,
    ) -> GetWebhookResponse:
        body = PostWebhookRequest(
            webhookUrl=webhook_url,
            notificationTypes=list(notification_types) if notification_types else None,
            name=name,
            webhookSecret=secret,
        )
        return await self._send("POST", "/webhooks", GetWebhookResponse, body)

    async def replace_webhook(
        self, webhook_id: str, webhook: PutWebhookRequest | dict[str, Any]
    ) -> GetWebhookResponse:
        body = as_model(PutWebhookRequest, webhook)
        return await self._send("PUT", f"/webhooks/{_p(webhook_id)}", GetWebhookResponse, body)

    async def update_webhook(
        self, webhook_id: str, patch: PatchWebhookRequest | dict[str, Any]
    ) -> GetWebhookResponse:
        path, body = f"/webhooks/{_p(webhook_id)}", as_model(PatchWebhookRequest, patch)
        answer = await self.api.request("PATCH", path, json_body=body, idempotent=True)
        return typed(GetWebhookResponse, answer)

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._delete(f"/webhooks/{_p(webhook_id)}")

    async def set_webhook_enabled(self, webhook_id: str, enabled: bool) -> None:
        path = f"/webhooks/{_p(webhook_id)}/enabled"
        await self.api.request("PUT", path, params={"enabled": enabled})

    async def ensure_webhook(
        self,
        webhook_url: str,
        notification_types: Sequence[NotificationType],
        *,
        secret: str | None = None,
        name: str | None = None,
    ) -> GetWebhookResponse:
        """Leave exactly one webhook for ``webhook_url``: enabled, with exactly these
        notification types, and the secret when one is given (the API never shows it, so a
        given secret is always written; without one the stored secret stays). Others for the
        same URL are deleted; one is created when there is none. Changes go by PATCH, which
        leaves what it does not name as it is."""
        same = [w for w in await self.list_webhooks() if w.webhookUrl == webhook_url]
        if not same:
            return await self.create_webhook(
                webhook_url, notification_types, secret=secret, name=name
            )
        keep, *extra = same
        for webhook in extra:
            await self.delete_webhook(webhook.webhookId)
        unchanged = (
            sorted(keep.notificationTypes) == sorted(notification_types)
            and keep.enabled
            and secret is None
            and (name is None or name == keep.name)
        )
        if unchanged:
            return keep
        patch = PatchWebhookRequest(
            notificationTypes=list(notification_types),
            enabled=True,
            name=name,
            webhookSecret=secret,
        )
        return await self.update_webhook(keep.webhookId, patch)

    def iter_webhook_logs(
        self, webhook_id: str | None = None, *, page_size: int = 100
    ) -> AsyncIterator[WebhookNotificationLog]:
        return ec_pages(
            self.api,
            "/webhooks/logs",
            "webhookNotificationLogs",
            WebhookNotificationLog,
            page_size=page_size,
            params={"webhookId": webhook_id},
        )

    async def get_webhook_log(self, notification_id: str) -> GetWebhookNotificationLogByIdResponse:
        path = f"/webhooks/logs/{_p(notification_id)}"
        return await self._get(path, GetWebhookNotificationLogByIdResponse)

    # --- sandbox simulation ----------------------------------------------------------------

    async def simulate_price_curve(
        self, request: SimulatePriceCurveEventRequest | dict[str, Any]
    ) -> SimulateEventResponse:
        body = as_model(SimulatePriceCurveEventRequest, request)
        path = "/simulation/events/pricecurve"
        return await self._send("POST", path, SimulateEventResponse, body)

    async def simulate_user_eligibility(self) -> SimulateEventResponse:
        return await self._send("POST", "/simulation/events/usereligibility", SimulateEventResponse)

    async def simulate_location_lpc(
        self, request: SimulateLocationLPCEventRequest | dict[str, Any]
    ) -> SimulateEventResponse:
        body = as_model(SimulateLocationLPCEventRequest, request)
        path = "/simulation/events/lpc/locations"
        return await self._send("POST", path, SimulateEventResponse, body)

    async def simulate_resource_lpc(
        self, request: SimulateResourceLPCEventRequest | dict[str, Any]
    ) -> SimulateEventResponse:
        body = as_model(SimulateResourceLPCEventRequest, request)
        path = "/simulation/events/lpc/resources"
        return await self._send("POST", path, SimulateEventResponse, body)

    async def create_simulated_partner(self) -> None:
        await self.api.request("POST", "/simulation/partner")

    async def delete_simulated_partner(self) -> None:
        await self.api.request("DELETE", "/simulation/partner")

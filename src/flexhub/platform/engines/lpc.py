"""Power limits (LPC): the rules around a request's targets. A target is a location with a
meter point (``LocationLPC``, ``LPCReservation``) or a resource at a location with a meter
point (``ResourceLPC``); it is Pending until a report acknowledges or declines it, and
Unacknowledged when the deadline passes first (an answer after the deadline changes nothing).
When the forecast raises a limit, each enrolled location in the neighbourhood gets an equal
share of the transformer's capacity for the hours where shifting is not enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

PENDING = "Pending"
ACKNOWLEDGED = "Acknowledged"
DECLINED = "Declined"
UNACKNOWLEDGED = "Unacknowledged"
STATES = (PENDING, ACKNOWLEDGED, DECLINED, UNACKNOWLEDGED)
KINDS = ("LocationLPC", "ResourceLPC", "LPCReservation")
# which acknowledgement report answers which request
ACK_FOR = {
    "LocationLPC": "LocationLPCAcknowledgement",
    "LPCReservation": "LocationLPCAcknowledgement",
    "ResourceLPC": "ResourceLPCAcknowledgement",
}
MIN_SHARE_KW = 0.0

Identity = tuple[str | None, str, str]  # (resourceId or None, locationId, meterPointId)


def identity(target: Mapping[str, Any]) -> Identity:
    return (target.get("resourceId"), target["locationId"], target["meterPointId"])


def answers(kind: str, payloads: Iterable[Mapping[str, Any]]) -> dict[Identity, str]:
    """What the stored acknowledgement payloads of one report say about each target (the last
    mention wins)."""
    out: dict[Identity, str] = {}
    wanted = ACK_FOR.get(kind)
    for payload in payloads:
        if payload.get("payloadType") != wanted:
            continue
        for name, state in (("acknowledgedTargets", ACKNOWLEDGED), ("declinedTargets", DECLINED)):
            for target in payload.get(name) or []:
                out[identity(target)] = state
    return out


def next_state(current: str, answer: str, deadline: datetime, now: datetime) -> str:
    """A Pending target takes the answer before the deadline; an answered one may change its
    answer before the deadline; after it nothing changes (a Pending target is Unacknowledged)."""
    if now > deadline:
        return UNACKNOWLEDGED if current == PENDING else current
    return answer if current in (PENDING, ACKNOWLEDGED, DECLINED) else current


def fair_share_kw(capacity_kw: float | None, locations: int) -> float:
    """Each enrolled location's limit when the forecast raises one: an equal share of the
    transformer (0 kW without a capacity)."""
    if not capacity_kw or locations <= 0:
        return MIN_SHARE_KW
    return round(capacity_kw / locations, 3)


def limit_points(hours: Sequence[datetime], max_kw: float) -> list[tuple[datetime, float]]:
    return [(hour, max_kw) for hour in hours]

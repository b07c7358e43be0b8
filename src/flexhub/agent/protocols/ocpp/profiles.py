"""Charging profiles: what the CSMS wants in force on a station, built from periods of kW, in
a form of its own (:class:`ProfileSpec`) and as each OCPP version's message types.

Every profile flexhub sets has a fixed id per purpose and EVSE (:func:`profile_id`), so that
sending again replaces it on the station and clearing removes exactly it. Limits are in W (or
A, per :class:`StationConfig`); OCPP 2.0.1 and 1.6 limits cannot be negative, so a step that
asks to feed back is sent as 0 (no charging).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ocpp.v16 import datatypes as dt16
from ocpp.v16 import enums as en16
from ocpp.v201 import datatypes as dt201
from ocpp.v201 import enums as en201

from flexhub.agent.protocols.ocpp.state import Purpose, StationConfig
from flexhub.agent.protocols.periods import OPEN_END, Period, remaining

_ID_BASE = {Purpose.STATION_MAX: 3_100_000, Purpose.TX_DEFAULT: 3_200_000, Purpose.TX: 3_300_000}
_V16_PURPOSE = {
    Purpose.STATION_MAX: en16.ChargingProfilePurposeType.charge_point_max_profile,
    Purpose.TX_DEFAULT: en16.ChargingProfilePurposeType.tx_default_profile,
    Purpose.TX: en16.ChargingProfilePurposeType.tx_profile,
}


def profile_id(purpose: Purpose, evse_id: int) -> int:
    return _ID_BASE[purpose] + evse_id


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    profile_id: int
    purpose: Purpose
    evse_id: int
    start: datetime
    offsets: tuple[int, ...]  # seconds from ``start`` at which each limit begins
    limits_kw: tuple[float, ...]
    duration_s: int | None  # None: in force until replaced or cleared
    transaction_id: str | None = None
    stack_level: int = 1

    @property
    def end(self) -> datetime:
        if self.duration_s is None:
            return OPEN_END
        return self.start + timedelta(seconds=self.duration_s)


def build(
    purpose: Purpose,
    evse_id: int,
    periods: Sequence[Period],
    now: datetime,
    config: StationConfig,
    transaction_id: str | None = None,
) -> ProfileSpec | None:
    """The profile that puts the rest of ``periods`` (from ``now``) in force, at most
    ``config.max_periods`` of them; None when nothing is left. The schedule starts at whole
    seconds; a profile over a gap between periods would leave no limit there, so periods must
    follow each other (the CSMS only builds such)."""
    left = remaining(periods, now)
    if not left:
        return None
    left = left[: config.max_periods]
    start = left[0].start.replace(microsecond=0)
    offsets = (0, *(int((p.start - start).total_seconds()) for p in left[1:]))
    if left[-1].end >= OPEN_END:
        duration = None
    else:
        duration = max(1, round((left[-1].end - start).total_seconds()))
    return ProfileSpec(
        profile_id=profile_id(purpose, evse_id),
        purpose=purpose,
        evse_id=evse_id,
        start=start,
        offsets=offsets,
        limits_kw=tuple(max(0.0, p.kw) for p in left),
        duration_s=duration,
        transaction_id=transaction_id if purpose is Purpose.TX else None,
        stack_level=config.stack_level,
    )


def limit_value(kw: float, config: StationConfig) -> float:
    """A kW limit in the station's unit, to the 0.1 that OCPP schemas allow."""
    per_unit = config.voltage * config.phases if config.rate_unit == "A" else 1.0
    value = kw * 1000 / per_unit
    return round(max(0.0, value), 1)


def to_v201(spec: ProfileSpec, config: StationConfig) -> dt201.ChargingProfileType:
    periods = [
        dt201.ChargingSchedulePeriodType(start_period=o, limit=limit_value(kw, config))
        for o, kw in zip(spec.offsets, spec.limits_kw, strict=True)
    ]
    schedule = dt201.ChargingScheduleType(
        id=spec.profile_id,
        charging_rate_unit=en201.ChargingRateUnitEnumType(config.rate_unit),
        charging_schedule_period=periods,
        start_schedule=iso(spec.start),
        duration=spec.duration_s,
    )
    return dt201.ChargingProfileType(
        id=spec.profile_id,
        stack_level=spec.stack_level,
        charging_profile_purpose=en201.ChargingProfilePurposeEnumType(spec.purpose.value),
        charging_profile_kind=en201.ChargingProfileKindEnumType.absolute,
        charging_schedule=[schedule],
        transaction_id=spec.transaction_id,
    )


def to_v16(spec: ProfileSpec, config: StationConfig) -> dt16.ChargingProfile:
    periods = [
        dt16.ChargingSchedulePeriod(start_period=o, limit=limit_value(kw, config))
        for o, kw in zip(spec.offsets, spec.limits_kw, strict=True)
    ]
    schedule = dt16.ChargingSchedule(
        charging_rate_unit=en16.ChargingRateUnitType(config.rate_unit),
        charging_schedule_period=periods,
        duration=spec.duration_s,
        start_schedule=iso(spec.start),
    )
    return dt16.ChargingProfile(
        charging_profile_id=spec.profile_id,
        stack_level=spec.stack_level,
        charging_profile_purpose=_V16_PURPOSE[spec.purpose],
        charging_profile_kind=en16.ChargingProfileKindType.absolute,
        charging_schedule=schedule,
        transaction_id=int(spec.transaction_id) if spec.transaction_id else None,
    )

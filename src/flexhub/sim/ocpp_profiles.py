"""The simulated charging station's smart charging: the charging profiles it has taken, the
checks a real station makes before taking one, and the limit in force on each EVSE at any
time (OCPP 2.0.1 K01/K08 rules, the same for 1.6):

- on an EVSE, the TxProfile of its running transaction with the highest stack level whose
  schedule is running; failing that, a TxDefaultProfile (of the EVSE, else of the station);
- over the whole station, a ChargingStationMaxProfile (1.6: ChargePointMaxProfile) caps the
  EVSEs' draw together; the station shares it in proportion to what each EVSE would draw.

Recurring profiles are refused (this station only plays Absolute and Relative ones).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSES = {MAX, TX_DEFAULT, TX, "ChargePointMaxProfile"}


@dataclass
class Profile:
    """A charging profile as taken, whatever the OCPP version (1.6 purposes renamed)."""

    id: int
    evse_id: int
    purpose: str
    stack_level: int
    kind: str  # Absolute, Relative (Recurring is refused)
    unit: str  # W or A
    offsets: list[int]  # seconds from the schedule's start
    limits: list[float]  # in ``unit``
    start: datetime | None = None  # Absolute: startSchedule
    duration: int | None = None  # seconds; None: until replaced
    transaction_id: str | None = None
    phases: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def limit_at(self, t: datetime, tx_started: datetime | None) -> float | None:
        """The limit (in ``unit``) at ``t``, or None when the profile is not running then."""
        if (self.valid_from and t < self.valid_from) or (self.valid_to and t >= self.valid_to):
            return None
        start = tx_started if self.kind == "Relative" else self.start
        if start is None:
            return None
        s = (t - start).total_seconds()
        if s < 0 or (self.duration is not None and s >= self.duration):
            return None
        i = bisect.bisect_right(self.offsets, s) - 1
        return self.limits[i] if i >= 0 else None


@dataclass
class ProfileBook:
    evse_ids: set[int]
    rate_units: tuple[str, ...] = ("W", "A")
    voltage: float = 230.0
    phases: int = 3
    max_stack_level: int = 8
    max_periods: int = 1024
    profiles: dict[int, Profile] = field(default_factory=dict)
    taken: list[Profile] = field(default_factory=list)  # every profile accepted, in order

    def install(self, p: Profile, running_tx: dict[int, str | None]) -> tuple[bool, str]:
        """Take ``p`` (replacing one with the same id) or say why not."""
        if p.purpose == "ChargePointMaxProfile":
            p.purpose = MAX
        problem = self._problem(p, running_tx)
        if problem:
            return False, problem
        self.profiles[p.id] = p
        self.taken.append(p)
        return True, ""

    def _problem(self, p: Profile, running_tx: dict[int, str | None]) -> str:
        if p.purpose not in PURPOSES:
            return "UnknownPurpose"
        if p.evse_id != 0 and p.evse_id not in self.evse_ids:
            return "UnknownEVSE"
        if p.purpose == MAX and p.evse_id != 0:
            return "InvalidProfile: a station maximum belongs to EVSE 0"
        if p.purpose == TX:
            if p.evse_id == 0:
                return "InvalidProfile: a TxProfile belongs to an EVSE"
            if not p.transaction_id or running_tx.get(p.evse_id) != p.transaction_id:
                return "TxNotFound"
        if p.kind not in ("Absolute", "Relative"):
            return "UnsupportedKind"
        if p.kind == "Absolute" and p.start is None:
            return "InvalidSchedule: an absolute schedule needs startSchedule"
        if p.unit not in self.rate_units:
            return "UnsupportedRateUnit"
        if not 0 <= p.stack_level <= self.max_stack_level:
            return "InvalidStackLevel"
        if not p.offsets or len(p.offsets) > self.max_periods or p.offsets[0] != 0:
            return "InvalidSchedule: 1 to max periods, the first at 0"
        if any(b <= a for a, b in zip(p.offsets, p.offsets[1:], strict=False)):
            return "InvalidSchedule: periods in increasing order"
        if any(limit < 0 for limit in p.limits):
            return "InvalidSchedule: negative limit"
        for other in self.profiles.values():
            if (
                other.id != p.id
                and (other.evse_id, other.purpose, other.stack_level)
                == (p.evse_id, p.purpose, p.stack_level)
                and (p.purpose != TX or other.transaction_id == p.transaction_id)
            ):
                return "DuplicateProfile: same EVSE, purpose and stack level"
        return ""

    def clear(
        self,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """Remove the profiles that match; False when none did."""
        if purpose == "ChargePointMaxProfile":
            purpose = MAX
        gone = [
            p.id
            for p in self.profiles.values()
            if (profile_id is None or p.id == profile_id)
            and (evse_id is None or p.evse_id == evse_id)
            and (purpose is None or p.purpose == purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for pid in gone:
            del self.profiles[pid]
        return bool(gone)

    def transaction_ended(self, transaction_id: str) -> None:
        for pid in [p.id for p in self.profiles.values() if p.transaction_id == transaction_id]:
            del self.profiles[pid]

    def kw(self, p: Profile, value: float) -> float:
        if p.unit == "A":
            return value * self.voltage * (p.phases or self.phases) / 1000
        return value / 1000

    def _best(self, candidates: list[Profile], t: datetime, tx_started: datetime | None):
        for p in sorted(candidates, key=lambda p: -p.stack_level):
            value = p.limit_at(t, tx_started)
            if value is not None:
                return self.kw(p, value)
        return None

    def evse_limit_kw(
        self, evse_id: int, t: datetime, tx_id: str | None, tx_started: datetime | None
    ) -> float | None:
        """The limit in force on an EVSE at ``t`` (kW), None when nothing limits it."""
        if tx_id is not None:
            tx = [
                p
                for p in self.profiles.values()
                if p.purpose == TX and p.evse_id == evse_id and p.transaction_id == tx_id
            ]
            limit = self._best(tx, t, tx_started)
            if limit is not None:
                return limit
        for scope in (evse_id, 0):
            defaults = [
                p for p in self.profiles.values() if p.purpose == TX_DEFAULT and p.evse_id == scope
            ]
            limit = self._best(defaults, t, tx_started)
            if limit is not None:
                return limit
        return None

    def station_limit_kw(self, t: datetime) -> float | None:
        return self._best([p for p in self.profiles.values() if p.purpose == MAX], t, None)


def share(wants: dict[int, float], station_limit: float | None) -> dict[int, float]:
    """Scale what each EVSE would draw so that together they stay within the station's
    limit."""
    total = sum(max(w, 0.0) for w in wants.values())
    if station_limit is None or total <= station_limit or total <= 0:
        return dict(wants)
    factor = max(station_limit, 0.0) / total
    return {k: w * factor if w > 0 else w for k, w in wants.items()}

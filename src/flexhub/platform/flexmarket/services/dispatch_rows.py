"""What issuing and stopping dispatch instructions share: finding an instruction by the SO's
reference, comparing a repeated request with the stored one, checking the SO's signature
fields, building a new instruction row and publishing it."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.events import create_event
from flexhub.platform.flexmarket.services.windows import Window
from flexhub.signing import SO_SIGNATURE_ALGORITHM
from flexhub.store.flexmarket import FmCompetition, FmDispatchInstruction, FmObligation
from flexhub.wire.flexmarket.dispatches import InstructionOut

D = FmDispatchInstruction
REFERENCE_LENGTH = 200
SIGNATURE_FIELDS = ("signature", "signature_algorithm")
# An Ed25519 signature is 64 bytes: 86 base64url characters without padding, the last one
# carrying 2 bits (so one of A, Q, g, w).
_ED25519_B64URL = re.compile(r"[A-Za-z0-9_-]{85}[AQgw]", re.ASCII)


async def by_reference(
    session: AsyncSession, so_tenant_id: str, so_reference: str
) -> FmDispatchInstruction | None:
    return await session.scalar(
        select(D).where(D.so_tenant_id == so_tenant_id, D.so_reference == so_reference)
    )


def differences(row: FmDispatchInstruction, sent: dict[str, Any]) -> list[str]:
    """The fields of ``sent`` (signed fields, signature) that ``row`` holds differently."""
    kept = {
        **row.signed_fields,
        "signature": row.signature,
        "signature_algorithm": row.signature_algorithm,
    }
    return [name for name, value in sent.items() if kept.get(name) != value]


def check_signature(e: Errors, signature: str | None, algorithm: str | None) -> None:
    """The SO signature fields as the contract gives them: ``signature_algorithm`` exactly
    ``Ed25519`` and ``signature`` the 64-byte signature in base64url without padding (the one
    canonical spelling). Only the form is checked: the platform cannot verify the signature
    (the SO's keys are the provider's business) and relays both untouched."""
    if signature is not None and not _ED25519_B64URL.fullmatch(signature):
        e.add(
            "signature",
            "must be an Ed25519 signature (64 bytes) in base64url without padding: "
            "86 characters of A-Z, a-z, 0-9, - and _",
        )
    if algorithm is not None and algorithm != SO_SIGNATURE_ALGORITHM:
        e.add("signature_algorithm", f'must be "{SO_SIGNATURE_ALGORITHM}"')
    if signature is not None and algorithm is None:
        e.add("signature_algorithm", "is required with a signature")
    if algorithm is not None and signature is None:
        e.add("signature", "is required with a signature_algorithm")


def window_of(ob: FmObligation, comp: FmCompetition) -> Window:
    return Window(
        start=ob.start,
        end=ob.end,
        service_days=ob.service_days,
        bank_holidays=ob.bank_holidays,
        start_time=ob.start_time,
        end_time=ob.end_time,
        timezone=comp.timezone,
        holiday_dates={date.fromisoformat(d) for d in comp.bank_holiday_dates or []},
    )


def new_instruction(
    parent: dict[str, Any],
    signed: dict[str, str],
    start: datetime,
    end: datetime,
    now: datetime,
    **state: Any,
) -> FmDispatchInstruction:
    """A new instruction row: ``parent`` names its tenants, obligation, competition, power
    type and assets; ``signed`` holds the signed fields as sent; ``state`` the rest."""
    return D(
        id=str(uuid.uuid4()),
        **parent,
        so_reference=signed["so_reference"],
        instruction_type=signed["instruction_type"],
        start=start,
        end=end,
        ends_at=end,
        capacity=signed["capacity"],
        need_direction=signed["need_direction"],
        signed_fields=signed,
        created=now,
        modified=now,
        **state,
    )


async def publish(
    session: AsyncSession, row: FmDispatchInstruction, event_type: str
) -> InstructionOut:
    """Create the ``event_type`` event of ``row`` (already flushed) for its provider and
    commit; its wire view."""
    view = mappers.instruction(row)
    await create_event(session, row.provider_tenant_id, event_type, view)
    await session.commit()
    return view

"""Importing hourly needs (``engines.forecast_file``): checked in full (format, known
neighbourhoods) before anything is written; each (neighbourhood, hour) in the file replaces the
one imported before, in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.engines import forecast_file
from flexhub.platform.errors import ApiError, bad_request
from flexhub.store.coordination import Neighbourhood
from flexhub.store.grid import ForecastNeed

CHUNK = 1000


@dataclass(frozen=True)
class ImportOutcome:
    rows: int
    neighbourhoods: list[str]
    first_hour: datetime
    last_hour: datetime


def parse_or_400(data: bytes | str, kind: str | None = None) -> list[forecast_file.NeedRow]:
    try:
        return forecast_file.parse(data, kind)
    except forecast_file.ForecastFileError as exc:
        raise bad_request(str(exc), exc.field) from None
    except UnicodeDecodeError:
        raise bad_request("the file is not UTF-8 text", "needs") from None


async def import_needs(session: AsyncSession, rows: list[forecast_file.NeedRow]) -> ImportOutcome:
    """Store the rows (the caller has parsed them) and commit."""
    wanted = sorted({r.neighbourhood_id for r in rows})
    known = set(
        (await session.scalars(select(Neighbourhood.id).where(Neighbourhood.id.in_(wanted)))).all()
    )
    for i, row in enumerate(rows):
        if row.neighbourhood_id not in known:
            raise bad_request(
                f"needs[{i}].neighbourhoodId: neighbourhood {row.neighbourhood_id} does not exist",
                f"needs[{i}].neighbourhoodId",
            )
    hours: dict[str, list[datetime]] = defaultdict(list)
    for row in rows:
        hours[row.neighbourhood_id].append(row.hour)
    try:
        for nid, stamps in hours.items():
            for k in range(0, len(stamps), CHUNK):
                await session.execute(
                    delete(ForecastNeed).where(
                        ForecastNeed.neighbourhood_id == nid,
                        ForecastNeed.hour.in_(stamps[k : k + CHUNK]),
                    )
                )
        now = utcnow()
        session.add_all(
            ForecastNeed(
                neighbourhood_id=r.neighbourhood_id, hour=r.hour, need_kw=r.need_kw, imported_at=now
            )
            for r in rows
        )
        await session.commit()
    except ApiError:
        raise
    except Exception:
        await session.rollback()
        raise
    stamps = [r.hour for r in rows]
    return ImportOutcome(len(rows), wanted, min(stamps), max(stamps))

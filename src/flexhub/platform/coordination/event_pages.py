"""``GET /events``, the partner's most read page, answered with few hops and no re-validation:

- **one statement, one round trip**: the page's rows and the partner's total (a scalar
  subquery beside them), sent by the driver itself on a connection of the engine's pool —
  no ORM session, so no ``BEGIN``/``ROLLBACK`` (nor the pool's pre-ping, see
  ``Database.driver_connection``) round trips on PostgreSQL and one hand-over to aiosqlite's
  thread on SQLite (outside a transaction, a single SELECT reads one snapshot);
- **spliced bytes**: each event's payload is the wire text written when it was created and
  checked (``ec_events.wire``, see ``events.payload_wire``), joined with its id and
  ``createdAt`` in the form the wire models write (``Instant``: ``isoformat()`` of the UTC
  time), so the bytes equal those of ``GetEventsResponse`` serialised by pydantic. An event
  stored before that column existed is rendered from its payload through the wire models.

A failure of the driver reaches the error handlers as before: a connection ended under the
request is a 503 (``errors.py``), and the next request gets a new connection.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic_core import to_json

from flexhub.platform.coordination import mappers
from flexhub.store.database import Database
from flexhub.wire.coordination.common import ApiPagination
from flexhub.wire.coordination.events import GetEventResponse

_COLUMNS = "id, created_at, wire, CASE WHEN wire IS NULL THEN payload END"
_TOTAL = "(SELECT count(*) FROM ec_events WHERE tenant_id = {0})"
_PAGE = (
    f"SELECT {_COLUMNS}, {_TOTAL} FROM ec_events WHERE tenant_id = {{0}} "
    "ORDER BY created_at DESC, id DESC LIMIT {1} OFFSET {2}"
)
_SQL = {
    "postgresql": (_PAGE.format("$1", "$2", "$3"), "SELECT " + _TOTAL.format("$1")),
    "sqlite": (_PAGE.format(":t", ":n", ":o"), "SELECT " + _TOTAL.format(":t")),
}
_EVENT = GetEventResponse.__pydantic_serializer__
_PAGINATION = ApiPagination.__pydantic_serializer__

Row = tuple[str, datetime, str | None, object]  # id, created_at (UTC), wire, payload


async def read_page(db: Database, tenant_id: str, page: int, size: int) -> tuple[list[Row], int]:
    """The page's rows (newest first) and the partner's total; only a page past the end, which
    has no row to carry the total, asks for it on its own."""
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    page_sql, total_sql = _SQL[dialect]
    async with db.driver_connection() as driver:
        if dialect == "sqlite":
            named = {"t": tenant_id, "n": size, "o": (page - 1) * size}
            rows = list(await driver.execute_fetchall(page_sql, named))
            if not rows:
                rows_total = await driver.execute_fetchall(total_sql, named)
        else:
            rows = await driver.fetch(page_sql, tenant_id, size, (page - 1) * size)
            if not rows:
                rows_total = [(await driver.fetchval(total_sql, tenant_id),)]
    if not rows:
        return [], int(rows_total[0][0] or 0)
    total = int(rows[0][4])
    return [(r[0], _utc(r[1]), r[2], r[3]) for r in rows], total


def _utc(value: datetime | str) -> datetime:
    """``created_at`` as ``UTCDateTime`` reads it: SQLite's driver gives SQLAlchemy's text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def render(pagination: ApiPagination, rows: list[Row]) -> bytes:
    """The body of ``GetEventsResponse``, byte for byte as pydantic writes it."""
    events = b",".join(_event_json(*row) for row in rows)
    return b'{"pagination":%s,"events":[%s]}' % (_PAGINATION.to_json(pagination), events)


def _event_json(ident: str, created: datetime, wire: str | None, payload: object) -> bytes:
    if wire is None:  # stored before the wire text was kept
        data = json.loads(payload) if isinstance(payload, str) else payload
        return _EVENT.to_json(mappers.event_of(ident, created, data))
    return b'{"id":%s,"createdAt":"%s","payload":%s}' % (
        to_json(ident),
        created.isoformat().encode(),
        wire.encode(),
    )

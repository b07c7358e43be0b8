"""The agent's own tables, named ``agent_*`` so that they may share a database (SQLAlchemy
Core; SQLite by default, PostgreSQL by URL). Nothing here is the platform's: the agent keeps
what it received, what it must still do and what it must still report.

- ``inbox``: verified messages, stored before the webhook is answered; ``processed_at`` is set
  once the processor has acted on one.
- ``inbox_keys``: every id a message is known by (notification id, event id, ``jti``,
  instruction id and event type); a message with a known key is a duplicate.
- ``jobs``: what must happen at a time of the agent's clock (command assets at a dispatch's
  start, release them at its end, apply or lift a power limit, read meters on the hour,
  build a report after an event's day).
- ``dispatches``: the instructions the agent accepted, their allocation and what each asset
  delivered.
- ``meter_samples``: cumulative meter readings of an event's assets on the hour.
- ``reports``: the Energy Coordination reports outbox (kept until the platform accepts one,
  never sent again after).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

inbox = Table(
    "agent_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(8), nullable=False),  # "ec" or "fm"
    Column("kind", String(64), nullable=False),  # notification type / event type
    Column("subject", String(200), nullable=False),  # event id / instruction id
    Column("body", JSON, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("processed_at", Float),
    Column("outcome", Text),
)

inbox_keys = Table(
    "agent_inbox_keys",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("message_id", Integer, nullable=False),
)

jobs = Table(
    "agent_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("due", Float, nullable=False, index=True),  # the agent clock's epoch seconds
    Column("body", JSON, nullable=False),
    Column("done_at", Float),
)

dispatches = Table(
    "agent_dispatches",
    metadata,
    Column("instruction_id", String(100), primary_key=True),
    Column("obligation_id", String(100), nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("state", String(16), nullable=False),  # accepted, running, done, rejected
    Column("allocation", JSON, nullable=False),  # asset id -> kW setpoint
    Column("delivered", JSON, nullable=False),  # asset id -> kWh delivered
    Column("start_meter", JSON, nullable=False),  # asset id -> net import kWh at the start
    Column("commanded_at", Float),  # wall clock (epoch s) when its assets were commanded
    Column("reason", Text),
)

meter_samples = Table(
    "agent_meter_samples",
    metadata,
    Column("event_id", String(100), nullable=False),
    Column("asset_id", String(200), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("import_kwh", Float, nullable=False),
    Column("export_kwh", Float, nullable=False),
    UniqueConstraint("event_id", "asset_id", "hour"),
)

reports = Table(
    "agent_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("event_id", String(100), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", Float),
    Column("platform_id", String(100)),
    Column("failed", Text),  # refused for good (a 4xx other than 429), with the platform's answer
    Column("last_error", Text),
)

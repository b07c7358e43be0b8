"""event wire text

``ec_events.wire`` keeps an event's payload as the wire serialiser wrote it when the event was
created and checked, so that ``GET /events`` splices a page's bytes instead of validating and
serialising every stored payload again. Events stored before it have none and are rendered
from ``payload`` as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ec_events") as batch:
        batch.add_column(sa.Column("wire", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ec_events") as batch:
        batch.drop_column("wire")

"""merge the two grid-engine heads

Revision ID: 0008
Revises: 0006, 0007
Create Date: 2026-12-02 04:58:31.627322

Eligibility batching (0006) and the forecast, price-curve runs and power limits (0007) were
written side by side on 0005; this revision joins them. It changes nothing.
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = ("0006", "0007")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

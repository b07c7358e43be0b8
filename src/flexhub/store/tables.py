"""Every table, imported so that the metadata is complete (for Alembic and tests)."""

from flexhub.store import (  # noqa: F401
    coordination,
    delivery,
    flexmarket,
    flexmarket_webhooks,
    grid,
    partners,
)
from flexhub.store.base import Base

metadata = Base.metadata

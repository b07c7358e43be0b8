"""Every table, imported so that the metadata is complete (for Alembic and tests)."""

from flexhub.store import coordination, delivery, partners  # noqa: F401
from flexhub.store.base import Base

metadata = Base.metadata

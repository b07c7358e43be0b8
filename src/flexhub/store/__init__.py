"""Storage: SQLAlchemy tables by area, the engine/session factory and Alembic migrations."""

"""Alembic environment: runs on the connection the caller hands over (see Database.upgrade)."""

from alembic import context
from sqlalchemy import create_engine

from flexhub.store.tables import metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x url=...` from the command line, with a sync driver
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///./flexhub.db")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()

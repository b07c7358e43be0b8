"""The migrations build what the models declare. An empty database migrated from nothing to the
heads holds every table of ``flexhub.store.tables.metadata`` with the same columns and types,
indexes, unique constraints and foreign keys (Alembic's autogenerate comparison finds nothing
to do), on SQLite and on PostgreSQL; downgrading to base removes it all and upgrading again
gives the same schema."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from flexhub.store.database import Database, alembic_config
from flexhub.store.tables import metadata
from support.databases import make_backend


@pytest.fixture(params=["sqlite", "postgres"])
def empty_backend(request, tmp_path_factory):
    yield from make_backend(request.param, tmp_path_factory.mktemp(f"m-{request.param}"))


@pytest.fixture
async def db(empty_backend):
    database = Database(empty_backend.url)
    yield database
    await database.dispose()


def _schema(connection) -> tuple[set[str], set[str], list]:
    """The tables there, the revisions applied, and what autogenerate would change."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    tables = set(inspect(connection).get_table_names())
    return tables, set(context.get_current_heads()), compare_metadata(context, metadata)


async def schema(db: Database) -> tuple[set[str], set[str], list]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_schema)


def _downgrade_to_base(connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, "base")


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def assert_matches_models(found: tuple[set[str], set[str], list]) -> None:
    tables, applied, differences = found
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert applied == heads()
    assert differences == [], "the migrations and the models differ:\n" + "\n".join(
        str(d) for d in differences
    )


async def test_empty_database_migrated_to_head_matches_the_models(db):
    tables, applied, _ = await schema(db)
    assert tables == set() and applied == set()
    await db.upgrade()
    assert_matches_models(await schema(db))


async def test_downgrade_to_base_then_upgrade_again(db):
    await db.upgrade()
    async with db.engine.connect() as conn:
        await conn.run_sync(_downgrade_to_base)
        await conn.commit()
    tables, applied, _ = await schema(db)
    assert tables == {"alembic_version"} and applied == set()
    await db.upgrade()
    assert_matches_models(await schema(db))

"""The delivery tests' own databases: one of each kind per module (a claim sees every
tenant's rows, so these tests do not share the suite's database), upgraded afresh per test
user through ``db``."""

from __future__ import annotations

import pytest

from flexhub.store.database import Database
from support.databases import make_backend


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fresh_backend(request, tmp_path_factory):
    yield from make_backend(request.param, tmp_path_factory.mktemp(f"d-{request.param}"))


@pytest.fixture
async def db(fresh_backend):
    database = Database(fresh_backend.url)
    await database.upgrade()
    yield database
    await database.dispose()

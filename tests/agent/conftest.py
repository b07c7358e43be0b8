"""The agent tests' own database: the agent's inbox runs on the backend the platform runs on
(SQLite: a file in the test's directory; PostgreSQL: a fresh database per test)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.engine import make_url

from support.databases import POSTGRES_URL, _pg_admin


@pytest.fixture
async def agent_db(backend, tmp_path):
    if backend.name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/agent.db"
        return
    name = f"flexhub_agent_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await asyncio.sleep(0)
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

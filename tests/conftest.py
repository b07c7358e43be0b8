"""Shared fixtures (the helpers behind them are in ``support/``). Storage and API tests run on
SQLite always and on PostgreSQL when it is reachable (``support.databases``); each PostgreSQL
session gets its own fresh database. Also reports, once, when the official Energy Coordination
document is missing (``support.ec_spec``), or stops the run if it is required."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from flexhub.store.database import Database
from support.databases import Backend, make_backend, platform_settings
from support.ec_schemas import skipped_checks
from support.ec_spec import MISSING, SEARCHED, SPEC_PATH, document_required
from support.platform import EC, Partner, PlatformThread, new_partner
from support.receiver import Receiver


def pytest_configure(config: pytest.Config) -> None:
    if SPEC_PATH is None and document_required():
        raise pytest.UsageError(
            f"{MISSING}: looked for {SEARCHED}, and FLEXHUB_REQUIRE_EC_SPEC is set"
        )


def pytest_report_header(config: pytest.Config) -> str:
    if SPEC_PATH is None:
        return f"{MISSING}: looked for {SEARCHED}; conformance checks will be skipped"
    return f"official Energy Coordination document: {SPEC_PATH}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``ec_document`` need the official document: skipped without it (before
    their fixtures start anything), in one place so that the summary shows them once."""
    if SPEC_PATH is None and item.get_closest_marker("ec_document"):
        pytest.skip(MISSING)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if SPEC_PATH is None:
        tests = sum(
            1
            for report in terminalreporter.stats.get("skipped", [])
            if isinstance(report.longrepr, tuple) and MISSING in str(report.longrepr[2])
        )
        terminalreporter.write_line(
            f"{MISSING}: {skipped_checks()} response-schema checks and {tests} conformance "
            "tests skipped",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request, tmp_path_factory) -> Iterator[Backend]:
    yield from make_backend(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))


@pytest.fixture(scope="session")
def platform(backend: Backend, tmp_path_factory) -> Iterator[PlatformThread]:
    """The platform served on a loopback port, with its delivery worker, for this backend."""
    settings = platform_settings(backend.url, tmp_path_factory.mktemp("data"))
    running = PlatformThread(settings).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def test_db(platform: PlatformThread) -> AsyncIterator[Database]:
    """A test-side connection to the platform's database (for setup and inspection)."""
    db = Database(platform.settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def make_partner(platform: PlatformThread, test_db: Database):
    """``await make_partner(role="provider", api=EC)`` → a new partner with a live token."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str = "provider", api: str = EC, name: str | None = None) -> Partner:
        partner = await new_partner(platform.base_url, test_db, role, api, name)
        clients.append(partner.client)
        return partner

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def ec(make_partner) -> Partner:
    """A fresh provider partner with a client rooted at /energy-coordination/v1."""
    return await make_partner()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()

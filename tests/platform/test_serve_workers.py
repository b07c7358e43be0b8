"""``flexhub platform serve --workers N``: N processes serve one port on PostgreSQL, each with
its delivery worker and background loops; on SQLite the command refuses N > 1 and says why."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from flexhub.cli import app as cli
from flexhub.platform.auth import add_partner
from flexhub.store.database import Database
from support.databases import make_backend
from support.platform import EC, free_port


@pytest.fixture
def pg_url(tmp_path):
    yield from (backend.url for backend in make_backend("postgres", tmp_path))


def _children(pid: int) -> list[int]:
    """The server processes uvicorn started (not multiprocessing's resource tracker)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    found = []
    for child in (int(p) for p in text.split()):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline and not _zombie(child):
            found.append(child)
    return found


def _wait(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def _partner(url: str):
    db = Database(url)
    await db.upgrade()
    try:
        async with db.session() as session:
            creds = await add_partner(session, "two-workers")
            await session.commit()
    finally:
        await db.dispose()
    return creds


def test_two_workers_serve_one_port_on_postgres(pg_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FLEXHUB_DATABASE_URL": pg_url,
        "FLEXHUB_DATA_DIR": str(tmp_path / "data"),
        "FLEXHUB_PRICE_CURVE_SCHEDULE": "",
    }
    command = [sys.executable, "-m", "flexhub.cli", "platform", "serve", "--workers", "2"]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        creds = asyncio.run(_partner(pg_url))
        _wait(lambda: _healthy(base) and len(_children(server.pid)) == 2, "two serving processes")
        token = httpx.post(
            base + "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        # each request on a new connection: the kernel hands them to either process
        for _ in range(10):
            r = httpx.get(base + EC + "/events?pageSize=5", headers=auth)
            assert r.status_code == 200, r.text
            assert r.json()["pagination"]["totalRecords"] == 0
        # with one of the two killed, the other still answers on the same port
        first, second = _children(server.pid)
        os.kill(first, signal.SIGKILL)
        _wait(lambda: not Path(f"/proc/{first}").exists() or _zombie(first), "the kill")
        r = httpx.get(base + EC + "/events", headers=auth)
        assert r.status_code == 200, r.text
        assert Path(f"/proc/{second}").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return True


def test_sqlite_refuses_several_workers_and_says_why(tmp_path):
    env = {
        "FLEXHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/flexhub.db",
        "FLEXHUB_DATA_DIR": str(tmp_path / "data"),
    }
    result = CliRunner().invoke(cli, ["platform", "serve", "--workers", "2"], env=env)
    assert result.exit_code == 2
    assert "needs PostgreSQL" in result.output and "one process" in result.output
    assert not (tmp_path / "flexhub.db").exists()  # nothing was started

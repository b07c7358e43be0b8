"""The command line: partner add prints credentials once and stores only a hash; keys rotate."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select
from typer.testing import CliRunner

from flexhub.cli import app
from flexhub.platform.auth import authenticate_client
from flexhub.platform.keys import KeyStore
from flexhub.store.database import Database
from flexhub.store.partners import Partner


def _env(tmp_path) -> dict[str, str]:
    return {
        "FLEXHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FLEXHUB_DATA_DIR": str(tmp_path / "data"),
    }


def test_partner_add_prints_secret_once_and_stores_hash(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app, ["partner", "add", "Acme Flex", "--role", "system_operator"], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client id:\s+(\S+)", result.output).group(1)
    secret = re.search(r"client secret:\s+(\S+)", result.output).group(1)

    async def check() -> None:
        db = Database(_env(tmp_path)["FLEXHUB_DATABASE_URL"])
        try:
            async with db.session() as session:
                partner = await session.scalar(select(Partner).where(Partner.name == "Acme Flex"))
                assert partner.role == "system_operator"
                assert secret not in partner.secret_hash
                assert partner.secret_hash.startswith("scrypt$")
                assert (await authenticate_client(session, client_id, secret)).id == partner.id
        finally:
            await db.dispose()

    asyncio.run(check())

    again = runner.invoke(app, ["partner", "add", "Acme Flex"], env=_env(tmp_path))
    assert again.exit_code == 1 and "exists already" in again.output
    bad = runner.invoke(app, ["partner", "add", "X", "--role", "king"], env=_env(tmp_path))
    assert bad.exit_code != 0


def test_keys_rotate_keeps_previous_key_published(tmp_path):
    runner = CliRunner()
    store = KeyStore(tmp_path / "data" / "keys").load()
    first = store.current.kid
    result = runner.invoke(app, ["keys", "rotate"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    store.refresh()
    assert store.current.kid != first
    assert [k.kid for k in store.published()] == [store.current.kid, first]
    listing = runner.invoke(app, ["keys", "list"], env=_env(tmp_path))
    assert "current" in listing.output and "retired" in listing.output

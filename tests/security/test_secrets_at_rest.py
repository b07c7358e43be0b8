"""Finding 9 (issue 11), secrets at rest: the SQLite file and every key file are created 0600
(the data directory 0700), Energy Coordination webhook secrets are stored encrypted (a secret
written before encryption is sealed at the next start), deliveries are still signed with the
partner's secret, and the encryption key rotates (``flexhub keys rotate --for secrets``)."""

from __future__ import annotations

import asyncio
import os
import stat

from sqlalchemy import select
from typer.testing import CliRunner

from flexhub.cli import app as cli
from flexhub.signing import verify_payload_signature
from flexhub.store.coordination import EcWebhook
from flexhub.store.database import Database
from support.outbox import seed
from support.platform import EC
from support.receiver import Receiver
from support.strict import database_of, partner_on, start_strict


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def _secret_of(platform, tenant_id: str) -> str:
    async with database_of(platform) as db, db.session() as session:
        return await session.scalar(
            select(EcWebhook.secret).where(EcWebhook.tenant_id == tenant_id)
        )


async def test_files_are_private_and_secrets_encrypted(tmp_path):
    receiver = await Receiver().start()
    platform = start_strict(tmp_path, webhook_allow_private=True)
    try:
        assert _mode(tmp_path / "flexhub.db") == 0o600
        data = platform.settings.data_dir
        assert _mode(data) == 0o700
        files = [p for p in data.rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {"keys.json", "secrets.keys"}
        assert all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}
        ec = await partner_on(platform, api=EC)
        r = await ec.client.post(
            "/webhooks", json={"webhookUrl": receiver.url, "webhookSecret": "plain-s3cret"}
        )
        assert r.status_code == 201 and "webhookSecret" not in r.json()
        stored = await _secret_of(platform, ec.id)
        assert stored.startswith("fernet:") and "plain-s3cret" not in stored
        assert b"plain-s3cret" not in (tmp_path / "flexhub.db").read_bytes()
        assert (await ec.client.post("/simulation/events/usereligibility")).status_code == 200
        (req,) = await receiver.wait_for(1)
        verify_payload_signature("plain-s3cret", req.body, req.headers["X-Payload-Signature"])

        # rotation: a new key, every secret re-encrypted, the old key gone; still signed right
        key_file = data / "secrets.keys"
        old_key = key_file.read_text()
        env = {
            "FLEXHUB_DATABASE_URL": platform.settings.database_url,
            "FLEXHUB_DATA_DIR": str(data),
        }
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["keys", "rotate", "--for", "secrets"], env=env
        )
        assert result.exit_code == 0 and "1 webhook secret(s) re-encrypted" in result.output
        assert key_file.read_text() != old_key and len(key_file.read_text().split()) == 1
        assert _mode(key_file) == 0o600
        assert await _secret_of(platform, ec.id) != stored
        assert (await ec.client.post("/simulation/events/usereligibility")).status_code == 200
        requests = await receiver.wait_for(2)
        verify_payload_signature(
            "plain-s3cret", requests[1].body, requests[1].headers["X-Payload-Signature"]
        )
        await ec.client.aclose()
    finally:
        platform.stop()
        await receiver.stop()


async def test_a_secret_stored_in_plain_text_is_sealed_at_start(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/flexhub.db"
    os.close(os.open(tmp_path / "flexhub.db", os.O_CREAT | os.O_WRONLY, 0o644))
    db = Database(url)  # an existing file open to others is narrowed
    assert _mode(tmp_path / "flexhub.db") == 0o600
    await db.upgrade()
    receiver = await Receiver().start()
    try:
        tenant = await seed(db, receiver.url, 1, secret="legacy-secret")
        await db.dispose()
        platform = start_strict(tmp_path, webhook_allow_private=True)
        try:
            assert (await _secret_of(platform, tenant)).startswith("fernet:")
            (req,) = await receiver.wait_for(1)
            verify_payload_signature("legacy-secret", req.body, req.headers["X-Payload-Signature"])
        finally:
            platform.stop()
    finally:
        await receiver.stop()

"""``flexhub agent run --config agent.toml`` against the running platform, with nothing but
its config file (secrets from the environment): it serves its receiver, registers its webhook
on both APIs, and never writes a secret to its log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from support.agent import eventually
from support.platform import EC, free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONFIG = """
data_dir = "{data}"
policy = "rules"
reconcile_seconds = 3600

[receiver]
host = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"

[coordination]
base_url = "{base}{ec}"
token_url = "{base}/connect/token"
client_id = "{client_id}"
client_secret_env = "TEST_AGENT_SECRET"
webhook_secret_env = "TEST_AGENT_HOOK_SECRET"

[flex_market]
base_url = "{base}"
client_id = "{client_id}"
api_key_env = "TEST_AGENT_SECRET"
require_so_signature = false

[[assets]]
asset_id = "battery-1"
kind = "battery"
max_import_kw = 5
max_export_kw = 5
"""


async def test_run_with_nothing_but_the_config(platform, make_partner, tmp_path):
    partner = await make_partner(api="")
    port = free_port()
    path = tmp_path / "agent.toml"
    path.write_text(
        CONFIG.format(
            data=tmp_path / "data",
            port=port,
            base=platform.base_url,
            ec=EC,
            client_id=partner.client_id,
        )
    )
    env = {
        **os.environ,
        "TEST_AGENT_SECRET": partner.client_secret,
        "TEST_AGENT_HOOK_SECRET": "hook-secret-for-the-cli-test",
    }
    flexhub = Path(sys.executable).with_name("flexhub")
    log = tmp_path / "agent.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(flexhub), "agent", "run", "--config", str(path)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        receiver = f"http://127.0.0.1:{port}"

        async def registered():
            hooks = (await partner.client.get(EC + "/webhooks")).json()["webhooks"]
            subs = (await partner.client.get("/webhook/v1/subscriptions/")).json()["results"]
            return (
                [h for h in hooks if h["webhookUrl"] == receiver + "/notify"],
                [s for s in subs if s["url"] == receiver + "/flex/webhook"],
            )

        async def up():
            assert proc.poll() is None, log.read_text()
            hooks, subs = await registered()
            return hooks and subs

        await eventually(up, timeout=60)
        hooks, subs = await registered()
        assert len(hooks) == 1 and hooks[0]["enabled"]
        assert len(subs) == 1 and subs[0]["active"]
        async with aiohttp.ClientSession() as http, http.get(receiver + "/healthz") as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text()
    assert "Flex Market subscription" in text
    assert partner.client_secret not in text and "hook-secret-for-the-cli-test" not in text

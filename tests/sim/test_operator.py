"""The system operator robot on loopback: a day played at 36,000x (about two seconds of wall
time) against the platform, a provider answering through its own client (accepting what its
fleet can deliver, rejecting more), the instructions signed with the SO's key, one stopped
early, and the record read back from the API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from decimal import Decimal
from pathlib import Path

from flexhub import signing
from flexhub.clients import ApiError, FlexMarketOperatorClient, FlexMarketProviderClient
from flexhub.clock import ScaledClock
from flexhub.sim.operator import OperatorRobot, day_plan
from flexhub.wire.flexmarket.webhooks import INSTRUCTION_EVENTS
from support.clients import new_partner
from support.fm import asset_body

FLEET_MW = Decimal("2.5")
TOO_MUCH = "more than the fleet can deliver"
FLEXHUB = str(Path(sys.executable).with_name("flexhub"))


async def answer_everything(fsp: FlexMarketProviderClient, so_key, seen: list[str]) -> None:
    """The provider: verify the SO's signature, accept what the fleet can deliver."""
    while True:
        async for instruction in fsp.iter_dispatches(status="pending"):
            signing.so_verify(
                instruction.model_dump(),
                instruction.signature,
                instruction.signature_algorithm,
                [so_key.public_key()],
            )
            seen.append(instruction.id)
            with contextlib.suppress(ApiError):  # 409: already expired or cancelled
                if Decimal(instruction.capacity) <= FLEET_MW:
                    await fsp.accept_dispatch(instruction.id)
                else:
                    await fsp.reject_dispatch(instruction.id, TOO_MUCH)
        await asyncio.sleep(0.05)


async def test_a_day_of_instructions(client_platform, client_db, receiver):
    so_key = signing.generate_private_key()
    fsp_creds = await new_partner(client_db, "provider")
    so_creds = await new_partner(client_db, "system_operator")
    base = client_platform.base_url
    async with (
        FlexMarketProviderClient(
            base, client_id=fsp_creds.client_id, api_key=fsp_creds.secret
        ) as fsp,
        FlexMarketOperatorClient(
            base, client_id=so_creds.client_id, api_key=so_creds.secret, signing_key=so_key
        ) as so,
    ):
        await fsp.ensure_subscription(receiver.url, INSTRUCTION_EVENTS)
        assets = [await fsp.create_asset(asset_body()) for _ in range(2)]
        seen: list[str] = []
        provider = asyncio.create_task(answer_everything(fsp, so_key, seen))
        try:
            robot = OperatorRobot(so, ScaledClock(speed=36_000))
            competition = await robot.open_competition()
            obligation = await robot.award(
                competition, assets[0].provider, [a.id for a in assets], Decimal("4.000")
            )
            plan = day_plan(Decimal("2.000"), too_much=Decimal("3.500"))
            record = await robot.run(obligation, competition, plan)
            record = await robot.read_back(record, wait_seconds=30)
        finally:
            provider.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await provider

    assert [i.refused for i in record.issued] == [None] * 4
    assert len(set(record.instruction_ids)) == 4 and set(record.instruction_ids) <= set(seen)
    assert record.statuses() == {"accepted": 3, "rejected": 1}
    rejected = next(i for i in record.issued if i.status == "rejected")
    assert rejected.reason == TOO_MUCH and rejected.instruction.capacity == "3.500"

    assert [i.stop_refused for i in record.issued] == [None] * 4
    stopped = [i for i in record.issued if i.stop is not None]
    assert len(stopped) == 1 and stopped[0].status == "accepted"
    assert len(stopped) == 1 and stopped[0].planned.stop_after is not None
    stop = stopped[0].stop
    assert (stop.instruction_type, stop.stops) == ("stop", stopped[0].instruction.id)
    signing.so_verify(
        stop.model_dump(), stop.signature, stop.signature_algorithm, [so_key.public_key()]
    )

    for issued in record.issued:  # every instruction's creation was delivered to the provider
        created = [d for d in issued.deliveries if d.event == "dispatch_instruction.created"]
        assert [d.status for d in created] == ["delivered"]
        assert created[0].latency_seconds is not None and created[0].latency_seconds >= 0
    assert "dispatch_instruction.stopped" in {d.event for d in stopped[0].deliveries}
    p50, p99 = record.latency_percentiles()
    assert 0 <= p50 <= p99 <= max(record.latencies())


async def test_the_cli_plays_the_day(client_platform, client_db, tmp_path):
    """``flexhub sim operator`` (a real process): signed instructions the provider then finds
    addressed to it, listed with their statuses."""
    so_key = signing.generate_private_key()
    key_file = tmp_path / "so.pem"
    key_file.write_bytes(signing.private_key_pem(so_key))
    fsp_creds = await new_partner(client_db, "provider")
    so_creds = await new_partner(client_db, "system_operator")
    base = client_platform.base_url
    async with FlexMarketProviderClient(
        base, client_id=fsp_creds.client_id, api_key=fsp_creds.secret
    ) as fsp:
        asset = await fsp.create_asset(asset_body())
        env = {**os.environ, "FLEXHUB_SO_API_KEY": so_creds.secret, "COLUMNS": "250"}
        process = await asyncio.create_subprocess_exec(
            FLEXHUB,
            *("sim", "operator", "--url", base, "--client-id", so_creds.client_id),
            *("--key", str(key_file), "--provider", asset.provider, "--assets", asset.id),
            *("--capacity", "1.500", "--speed", "72000", "--wait", "0", "--answer-wait", "0"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 120)
        text = output.decode()
        assert process.returncode == 0, text
        received = [i async for i in fsp.iter_dispatches()]
    dispatches = [i for i in received if i.instruction_type == "dispatch"]
    assert len(dispatches) == 3 and len(received) == 4  # and the stop of one
    for instruction in received:
        signing.so_verify(
            instruction.model_dump(),
            instruction.signature,
            instruction.signature_algorithm,
            [so_key.public_key()],
        )
        assert instruction.id in text or instruction.instruction_type == "stop"
    assert so_creds.secret not in text

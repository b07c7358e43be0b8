"""``flexhub sim chargers`` and ``flexhub sim s2`` start simulated devices that connect to a
CSMS and a CEM (real processes, real WebSockets) and stop cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from flexhub.agent.protocols.ocpp import Csms
from flexhub.agent.protocols.s2 import Cem

FLEXHUB = str(Path(sys.executable).with_name("flexhub"))


async def _run_until(args: list[str], connected, timeout: float = 30.0) -> None:
    process = await asyncio.create_subprocess_exec(
        FLEXHUB, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        await connected(timeout)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), 30)
        except TimeoutError:  # say what it printed, so that a hang can be told apart
            process.kill()
            output, _ = await process.communicate()
            raise AssertionError(
                "the simulator did not stop within 30 s of Ctrl-C:\n" + output.decode()
            ) from None
    assert process.returncode == 0, output.decode()
    assert b" to ws://" in output


async def test_sim_chargers_connect_to_the_csms():
    ids = ["SIM-CP-0001", "SIM-CP-0002"]
    async with Csms(credentials={i: "a-station-password-16+" for i in ids}) as csms:
        await _run_until(
            [
                "sim",
                "chargers",
                "-n",
                "2",
                "--evses",
                "2",
                "--url",
                csms.url,
                "--speed",
                "60",
                "--password",
                "a-station-password-16+",
            ],
            lambda timeout: csms.wait_for(
                lambda: all(
                    csms.station(i).connected
                    and csms.station(i).booted_at
                    and len(csms.station(i).evse_ids) == 2
                    for i in ids
                ),
                timeout,
            ),
        )


async def test_sim_s2_connects_to_the_cem():
    ids = ["SIM-RM-0001", "SIM-RM-0002", "SIM-RM-0003"]
    async with Cem(tokens={i: "an-s2-token" for i in ids}) as cem:
        await _run_until(
            ["sim", "s2", "-n", "3", "--url", cem.url, "--token", "an-s2-token"],
            lambda timeout: cem.wait_for(
                lambda: all(cem.resource(i).control_type for i in ids), timeout
            ),
        )
        models = sorted(cem.resource(i).model for i in ids)
        assert models == ["sim-ev", "sim-homebattery", "sim-waterheater"]

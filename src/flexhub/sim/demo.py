"""The demo: the platform on SQLite with a sandbox partner; a simulated price-curve event is
delivered to a local webhook receiver that verifies its signature; then prints what happened.

Everything goes through the real HTTP API on a loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import tempfile
import time
from pathlib import Path

import aiohttp
import uvicorn
from aiohttp import web
from rich.console import Console
from rich.table import Table

from flexhub.config import load_settings
from flexhub.platform.app import create_app
from flexhub.platform.auth import add_partner
from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, SignatureError, verify_payload_signature

EC = "/energy-coordination/v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoReceiver:
    """A webhook endpoint that checks ``X-Payload-Signature`` on the raw body before parsing."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.got: asyncio.Queue[tuple[dict, bool, float]] = asyncio.Queue()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            verify_payload_signature(
                self.secret, raw, request.headers.get(PAYLOAD_SIGNATURE_HEADER)
            )
        except SignatureError:
            await self.got.put(({}, False, time.perf_counter()))
            return web.Response(status=400, text="bad signature")
        import json

        await self.got.put((json.loads(raw), True, time.perf_counter()))
        return web.Response(status=200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/flexhub", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/webhooks/flexhub"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


async def _check(resp: aiohttp.ClientResponse, what: str) -> dict | list | None:
    if resp.status >= 400:
        raise RuntimeError(f"{what} failed: {resp.status} {await resp.text()}")
    if resp.status == 204 or resp.content_length == 0:
        return None
    return await resp.json()


async def run_demo(console: Console) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="flexhub-demo-"))
    port = _free_port()
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{workdir}/flexhub.db",
        data_dir=workdir / "data",
        host="127.0.0.1",
        port=port,
        webhook_allow_private=True,
    )
    console.rule("[bold]flexhub demo")
    console.print(f"platform on http://127.0.0.1:{port} (SQLite at {workdir}/flexhub.db)")
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serve = asyncio.create_task(server.serve())
    while not server.started:
        if serve.done():
            await serve
        await asyncio.sleep(0.02)
    receiver = DemoReceiver(secret=secrets.token_urlsafe(24))
    await receiver.start()
    try:
        await _scenario(console, app, settings.base_url, receiver)
    finally:
        await receiver.stop()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serve


async def _scenario(console: Console, app, base: str, receiver: DemoReceiver) -> None:
    async with app.state.ctx.db.session() as session:
        creds = await add_partner(session, "Sandbox partner", "provider")
        await session.commit()
    console.print(f"sandbox partner created: client id [cyan]{creds.client_id}[/cyan]")

    async with aiohttp.ClientSession(base_url=base) as http:
        token = await _check(
            await http.post(
                "/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": creds.client_id,
                    "client_secret": creds.client_secret,
                },
            ),
            "token",
        )
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        console.print(f"token issued ({token['token_type']}, {token['expires_in']} s)")

        hook = await _check(
            await http.post(
                f"{EC}/webhooks",
                headers=auth,
                json={
                    "name": "demo receiver",
                    "webhookUrl": receiver.url,
                    "webhookSecret": receiver.secret,
                    "notificationTypes": ["PriceCurveCreated", "UserEligibilityUpdated"],
                },
            ),
            "create webhook",
        )
        console.print(f"webhook {hook['webhookId']} -> {receiver.url}")

        await _check(await http.post(f"{EC}/simulation/partner", headers=auth), "simulated data")
        users = (await _check(await http.get(f"{EC}/users", headers=auth), "users"))["users"]
        enrolled = 0
        for user in users:
            uid = user["userId"]
            elig = await _check(await http.get(f"{EC}/users/{uid}/eligibility", headers=auth), "e")
            if elig["isEligible"]:
                await _check(await http.post(f"{EC}/users/{uid}/enrollment", headers=auth), "enr")
                enrolled += 1
        console.print(
            f"simulated partner data: {len(users)} users, {enrolled} eligible and enrolled"
        )

        started = time.perf_counter()
        sim = await _check(
            await http.post(f"{EC}/simulation/events/pricecurve", headers=auth, json={}),
            "simulate price curve",
        )
        event = sim["simulatedEvent"]
        console.print(f"price-curve event {event['id']} created")

        deadline = time.monotonic() + 15
        note = None
        while time.monotonic() < deadline:
            body, valid, arrived = await asyncio.wait_for(receiver.got.get(), timeout=15)
            if body.get("eventId") == event["id"] or not valid:
                note = (body, valid, arrived)
                break
        if note is None:
            raise RuntimeError("the webhook did not arrive")
        body, valid, arrived = note
        status = "[green]valid[/green]" if valid else "[red]INVALID[/red]"
        console.print(
            f"webhook {body.get('notificationType')} arrived after "
            f"{(arrived - started) * 1000:.1f} ms; X-Payload-Signature {status}"
        )
        _print_curve(console, body["payload"])

        for _ in range(50):  # the worker records the attempt just after the receiver answers
            logs = await _check(await http.get(f"{EC}/webhooks/logs", headers=auth), "logs")
            entries = logs["webhookNotificationLogs"]
            if any(e.get("partnerEventId") == event["id"] for e in entries):
                break
            await asyncio.sleep(0.05)
        for log in entries[:5]:
            console.print(
                f"delivery log: {log['notificationType']} -> {log.get('responseStatusCode')} "
                f"in {log.get('requestDurationMs')} ms"
            )
    console.rule("[bold]done")


def _print_curve(console: Console, payload: dict) -> None:
    curve = payload["priceCurveDelta"]
    table = Table(
        title=f"Price curve delta, {payload['priceArea']} ({curve['currency']}/"
        f"{curve['energyUnit']}), {len(payload['targets'])} targeted resources"
    )
    table.add_column("hour (UTC)")
    table.add_column("delta", justify="right")
    for point in curve["points"]:
        table.add_row(point["timestamp"], f"{point['price']:+.3f}")
    console.print(table)

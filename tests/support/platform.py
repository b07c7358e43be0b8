"""The platform served on a loopback port, and partners with real tokens."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn

from flexhub.config import Settings

EC = "/energy-coordination/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PlatformThread:
    """The platform app served by uvicorn on a loopback port, in its own thread and loop."""

    def __init__(self, settings: Settings) -> None:
        from flexhub.platform.app import create_app

        self.settings = settings
        self.base_url = f"http://127.0.0.1:{settings.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=settings.port,
            log_level="warning",
            lifespan="on",
            loop="asyncio",
            proxy_headers=False,  # as `platform serve`: the app believes trusted proxies only
        )
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None  # the server's, once started
        self.thread = threading.Thread(target=self._run, daemon=True, name="platform")

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        asyncio.run(serve())

    def start(self) -> PlatformThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("platform did not start")
            time.sleep(0.02)
        return self

    @property
    def ctx(self):
        return self.app.state.ctx

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Partner:
    id: str
    name: str
    role: str
    client_id: str
    client_secret: str
    token: str
    client: httpx.AsyncClient  # base URL = the API root, bearer token set


async def fetch_token(base_url: str, client_id: str, secret: str) -> str:
    """A bearer token from ``POST /connect/token`` (client credentials)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        r.raise_for_status()
        return r.json()["access_token"]


async def new_partner(
    base_url: str, db, role: str = "provider", api: str = EC, name: str | None = None
) -> Partner:
    """A new partner stored through ``db`` with a live token from the platform at
    ``base_url``, and a client rooted at ``api`` (the caller closes ``partner.client``)."""
    import uuid

    from flexhub.platform.auth import add_partner

    name = name or f"{role}-{uuid.uuid4().hex[:8]}"
    async with db.session() as session:
        creds = await add_partner(session, name, role)
        await session.commit()
    token = await fetch_token(base_url, creds.client_id, creds.client_secret)
    client = httpx.AsyncClient(
        base_url=base_url + api, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    return Partner(
        creds.partner_id, name, role, creds.client_id, creds.client_secret, token, client
    )

"""What the drivers that serve a protocol endpoint share (the OCPP driver's CSMS, the S2
driver's CEM: the devices connect to the agent): their options, their clock, the server's life
and where the devices connect."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from flexhub.agent.drivers.intent import IntentDriver
from flexhub.clock import Clock


class Server(Protocol):
    url: str

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


class ServingDriver(IntentDriver, Generic[S]):
    """``server`` is set by the subclass's ``start``; ``protocol`` names it in errors."""

    protocol = "the protocol"

    def __init__(self, options: Mapping[str, Any], clock: Clock) -> None:
        super().__init__()
        self.options = dict(options)
        self.clock = clock
        self.server: S | None = None

    async def close(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    @property
    def url(self) -> str:
        """Where the devices connect: ``<url>/<their id>``."""
        return self._server().url

    def now(self) -> datetime:
        return self.clock.now()

    def _server(self) -> S:
        if self.server is None:
            raise RuntimeError(f"the {self.protocol} driver is not started")
        return self.server

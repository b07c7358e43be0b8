"""Stopping a protocol endpoint's WebSocket server without waiting on a peer forever: our own
tasks are cancelled first (a connection handler may be waiting on one of them), then the
server closes its connections, and a handler still busy after ``grace`` seconds is left to
the event loop's shutdown rather than holding the agent's (a peer that never answers the
closing handshake, a machine too busy to run the handler)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flexhub.tasks import cancel_and_wait

log = logging.getLogger("flexhub.agent.protocols")

CLOSE_GRACE_SECONDS = 5.0


async def close_server(
    server: Any | None,
    tasks: Callable[[], Iterable[asyncio.Task]],
    grace: float = CLOSE_GRACE_SECONDS,
) -> None:
    """``tasks()`` gives the endpoint's own tasks as they are at each call: asked before the
    server closes and again after (closing connections may start some)."""
    await cancel_and_wait(tasks())
    if server is not None:
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), grace)
        except TimeoutError:
            log.warning("connections still open %.0f s after closing; not waiting", grace)
    await cancel_and_wait(tasks())

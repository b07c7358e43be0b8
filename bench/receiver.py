"""A bare webhook receiver for the benchmarks: answers 200 to every POST and writes one line
per request to stdout: ``<unix time> <eventId>``. Run: python bench/receiver.py PORT"""

from __future__ import annotations

import json
import sys
import time

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    body = await request.read()
    arrived = time.time()
    try:
        event_id = json.loads(body).get("eventId", "-")
    except ValueError:
        event_id = "-"
    sys.stdout.write(f"{arrived:.6f} {event_id}\n")
    return web.Response(status=200)


def main() -> None:
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()

"""The agent's receiver on two frameworks, for bench/agent.py: a webhook endpoint that checks
``X-Payload-Signature`` and answers 200, served by aiohttp or by a bare ASGI app under uvicorn in
a child process (``python bench/receiver_frameworks.py KIND PORT``), and the speed of each:
sequential p50 and requests per second with 32 in flight."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

import aiohttp
from aiohttp import web

from figures import free_port

SECRET = "bench-secret"


def serve(kind: str, port: int) -> None:
    """Child process: a webhook receiver that checks X-Payload-Signature and answers 200."""
    from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, SignatureError, verify_payload_signature

    if kind == "aiohttp":

        async def notify(request: web.Request) -> web.Response:
            raw = await request.read()
            try:
                verify_payload_signature(SECRET, raw, request.headers.get(PAYLOAD_SIGNATURE_HEADER))
            except SignatureError:
                return web.Response(status=400)
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_post("/notify", notify)
        web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
        return
    import uvicorn

    header = PAYLOAD_SIGNATURE_HEADER.lower().encode()

    async def asgi(scope, receive, send):
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        sig = next((v.decode() for k, v in scope["headers"] if k == header), None)
        try:
            verify_payload_signature(SECRET, b"".join(chunks), sig)
            status, body = 200, b'{"status":"ok"}'
        except SignatureError:
            status, body = 400, b""
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(asgi, host="127.0.0.1", port=port, log_level="error", access_log=False)


async def receiver_speed(kind: str, samples: int) -> tuple[float, float]:
    """(sequential p50 ms, requests/s with 32 in flight) of one receiver process."""
    from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, payload_signature

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, kind, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    body = json.dumps({"eventId": "e", "payload": {"x": list(range(50))}}).encode()
    headers = {
        "Content-Type": "application/json",
        PAYLOAD_SIGNATURE_HEADER: payload_signature(SECRET, body),
    }
    url = f"http://127.0.0.1:{port}/notify"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.post(url, data=body, headers=headers) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            seq = []
            for _ in range(samples):
                t = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as r:
                    await r.read()
                seq.append((time.perf_counter() - t) * 1000)
            queue = iter(range(samples * 4))

            async def worker():
                for _ in queue:
                    async with http.post(url, data=body, headers=headers) as r:
                        await r.read()

            t = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(32)))
            rate = samples * 4 / (time.perf_counter() - t)
            return statistics.median(seq), rate
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))

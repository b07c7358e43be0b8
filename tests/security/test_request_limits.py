"""Finding 2 (issue 11): request bodies are limited before they are buffered (413 in each API's
error format, announced or streamed), and bounded shapes inside them (list sizes, string
lengths, polygon positions, webhooks per partner) are each a clear 400.
Finding 9 (polygon points, webhooks per partner) is covered here too."""

from __future__ import annotations

import asyncio
import json

import pytest

from support.fm import competition_body
from support.platform import EC
from support.strict import partner_on, start_strict

LIMIT = 400_000
BATCH_LIMIT = 1_500_000


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    platform = start_strict(
        tmp_path_factory.mktemp("limits"),
        max_body_bytes=LIMIT,
        max_batch_body_bytes=BATCH_LIMIT,
        max_webhooks_per_partner=3,
        webhook_allow_private=True,
    )
    yield platform
    platform.stop()


async def _announce(platform, path: str, ctype: str, length: int = 200_000_000) -> tuple:
    """Send only the head of a request announcing a ``length``-byte body; the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.settings.port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await asyncio.wait_for(reader.readexactly(length), timeout=10)
    finally:
        writer.close()
    return head, json.loads(body)


async def test_an_announced_oversized_body_is_refused_unread(limited):
    """The audit's 200 MB unauthenticated POST /authtoken/v1/: answered before any byte of the
    body is sent, in each API's format."""
    head, body = await _announce(limited, "/authtoken/v1/", "application/json")
    assert head.startswith(b"HTTP/1.1 413") and "detail" in body  # Flex Market: DRF
    head, body = await _announce(limited, "/connect/token", "application/x-www-form-urlencoded")
    assert head.startswith(b"HTTP/1.1 413") and body["error"]  # OAuth style
    head, body = await _announce(limited, EC + "/users", "application/json")
    assert head.startswith(b"HTTP/1.1 413") and isinstance(body, str)  # EC: a JSON string


async def _stream(platform, path: str, chunks: int, chunk: bytes) -> tuple[bytes, int]:
    """POST a chunked body without Content-Length; returns the response head and how many
    chunks were written before the platform answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.settings.port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    sent = 0
    try:
        for sent in range(1, chunks + 1):
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            try:
                head = await asyncio.wait_for(reader.read(200), timeout=0.01)
                if head:
                    return head, sent
            except TimeoutError:
                pass
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.read(200), timeout=10), sent
    except (ConnectionError, OSError):
        return await reader.read(200), sent
    finally:
        writer.close()


async def test_a_streamed_body_is_cut_off_at_the_limit(limited):
    chunk = b" " * 10_000
    head, sent = await _stream(limited, EC + "/users", chunks=500, chunk=chunk)  # 5 MB offered
    assert head.startswith(b"HTTP/1.1 413"), head
    assert sent < 100, f"the platform read {sent} chunks before refusing"


async def test_whitespace_padding_and_batches(limited):
    ec = await partner_on(limited, api=EC)
    try:
        head, body = await _announce(limited, EC + "/users", "application/json", LIMIT * 2)
        assert head.startswith(b"HTTP/1.1 413") and "larger than the limit" in body
        # the batch endpoints take more
        users = {"users": [{"userId": f"u-{i}"} for i in range(1000)]}
        body = json.dumps(users).encode() + b" " * LIMIT
        assert LIMIT < len(body) < BATCH_LIMIT
        r = await ec.client.post(
            "/users/batch", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 201, r.text
    finally:
        await ec.client.aclose()


async def test_long_lists_and_strings_are_a_400_naming_the_field(limited):
    ec = await partner_on(limited, api=EC)
    fsp = await partner_on(limited, api="")
    try:
        r = await ec.client.post("/users", json={"userId": "x" * 20_001})
        assert r.status_code == 400 and "userId" in r.json()
        r = await ec.client.post("/reports", json={"eventId": "e", "payloads": [0] * 10_001})
        assert r.status_code == 400 and "payloads" in r.json() and "10000" in r.json()
        r = await fsp.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": "https://example.com/", "events": ["obligation.created"] * 10_001},
        )
        assert r.status_code == 400 and list(r.json()) == ["events"], r.text
    finally:
        await ec.client.aclose()
        await fsp.client.aclose()


async def test_a_huge_competition_area_is_a_400(limited):
    so = await partner_on(limited, role="system_operator", api="")
    try:
        ring = [[0.0001 * i, 51.0] for i in range(6_000)]
        ring = [*ring, [0.5, 52.0], ring[0]]  # 6,002 positions, twice: 12,004 in all
        body = competition_body(area={"type": "MultiPolygon", "coordinates": [[ring], [ring]]})
        r = await so.client.post("/so/v1/competitions/", json=body)
        assert r.status_code == 400 and "area" in r.json(), r.text
        assert "10000 positions" in r.json()["area"][0]
    finally:
        await so.client.aclose()


async def test_webhooks_per_partner_are_capped_in_both_apis(limited):
    ec = await partner_on(limited, api=EC)
    fsp = await partner_on(limited, api="")
    try:
        for i in range(3):
            r = await ec.client.post("/webhooks", json={"webhookUrl": f"https://e.example/{i}"})
            assert r.status_code == 201
            r = await fsp.client.post(
                "/webhook/v1/subscriptions/",
                json={"url": f"https://e.example/{i}", "events": ["obligation.created"]},
            )
            assert r.status_code == 201
        r = await ec.client.post("/webhooks", json={"webhookUrl": "https://e.example/4"})
        assert r.status_code == 400 and "at most 3 webhooks" in r.json()["detail"]
        r = await fsp.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": "https://e.example/4", "events": ["obligation.created"]},
        )
        assert r.status_code == 400 and "at most 3" in r.json()["non_field_errors"][0]
        assert len((await ec.client.get("/webhooks")).json()["webhooks"]) == 3
    finally:
        await ec.client.aclose()
        await fsp.client.aclose()

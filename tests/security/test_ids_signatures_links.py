"""Findings 6, 7 and 8 (issue 11), plus the id part of 9:
- 6: ids that can never be addressed again (``a/b``, ``l/with/slash``) are a 400, as are
  control and bidi-override characters; ids are NFC normalised, so both spellings of é find
  the same user;
- 7: the SO signature fields are checked when an instruction is issued (Ed25519, a 64-byte
  base64url signature without padding), still relayed untouched;
- 8: links and redirects come from the public URL, never from the Host header.
"""

from __future__ import annotations

import base64
import unicodedata

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from flexhub import signing
from support.fm import market, ok


async def test_ids_that_a_path_cannot_hold_are_a_400(ec):
    for user_id in ("a/b", "a\\b", "..", "x\u202ey", "x\u2066y", "tab\there", "nl\n", "zw\u200b"):
        r = await ec.client.post("/users", json={"userId": user_id})
        assert r.status_code == 400, (repr(user_id), r.text)
        assert "userId" in r.json()
    assert (await ec.client.post("/users", json={"userId": "owner"})).status_code == 201
    r = await ec.client.post("/users/owner/locations", json={"locationId": "l/with/slash"})
    assert r.status_code == 400 and "locationId" in r.json()
    r = await ec.client.post(
        "/users/batch", json={"users": [{"userId": "fine"}, {"userId": "not/fine"}]}
    )
    assert r.status_code == 400
    assert (await ec.client.get("/users/fine")).status_code == 404  # nothing half-written
    # what the document's examples use passes
    for user_id in ("b2c3d4e5-f6a7-8901-bcde-f12345678901", "707057500012345678", "Ærlig ünit"):
        r = await ec.client.post("/users", json={"userId": user_id})
        assert r.status_code == 201, (user_id, r.text)
        assert (await ec.client.get(f"/users/{user_id}")).status_code == 200


async def test_ids_are_nfc_normalised(ec):
    decomposed = unicodedata.normalize("NFD", "café")
    r = await ec.client.post("/users", json={"userId": decomposed})
    assert r.status_code == 201 and r.json()["userId"] == "café"
    assert (await ec.client.get("/users/café")).status_code == 200
    assert (await ec.client.get(f"/users/{decomposed}")).status_code == 200
    r = await ec.client.post("/users", json={"userId": "café"})
    assert r.status_code == 400 and "already exists" in r.json()  # one id, however written


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_so_signature_fields_are_checked_at_issue(make_partner):
    m = await market(make_partner)
    key = ed25519.Ed25519PrivateKey.generate()
    body = m.dispatch_body()
    good = signing.so_sign(body, key)
    raw = base64.urlsafe_b64decode(good + "==")
    bad = {
        "algorithm none": {"signature": good, "signature_algorithm": "none"},
        "HS256": {"signature": good, "signature_algorithm": "HS256"},
        "lower case": {"signature": good, "signature_algorithm": "ed25519"},
        "63 bytes": {"signature": _b64url(raw[:63]), "signature_algorithm": "Ed25519"},
        "padded": {"signature": good + "==", "signature_algorithm": "Ed25519"},
        "standard base64": {
            "signature": base64.b64encode(b"\xfb\xff" * 32).decode().rstrip("="),
            "signature_algorithm": "Ed25519",
        },
        "not canonical": {"signature": good[:-1] + "B", "signature_algorithm": "Ed25519"},
    }
    for name, fields in bad.items():
        r = await m.so.client.post("/so/v1/dispatches/", json={**body, **fields})
        assert r.status_code == 400, (name, r.text)
        assert set(r.json()) & {"signature", "signature_algorithm"}, (name, r.json())
    sent = {**body, "signature": good, "signature_algorithm": "Ed25519"}
    created = await ok(await m.so.client.post("/so/v1/dispatches/", json=sent), 201)
    assert created["signature"] == good  # relayed untouched


async def test_links_and_redirects_ignore_the_host_header(platform, make_partner):
    fsp = await make_partner(api="")
    for i in range(3):
        r = await fsp.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": f"https://e.example/{i}", "events": ["obligation.created"]},
        )
        assert r.status_code == 201
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    r = await fsp.client.get("/webhook/v1/subscriptions/", params={"limit": 1}, headers=evil)
    page = r.json()
    assert page["next"].startswith(platform.settings.base_url + "/webhook/v1/subscriptions/")
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.get("/webhook/v1/public-key", headers=evil)  # no trailing slash
    assert r.status_code in (307, 308)
    assert r.headers["location"] == platform.settings.base_url + "/webhook/v1/public-key/"

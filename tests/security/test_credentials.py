"""Finding 4 (issue 11): client ids cannot be told apart by the work a credential check does.
Unknown ids hashed twice before; now a known id with a wrong or right secret, a disabled
partner and an unknown id each cost exactly one key derivation. Counted, not timed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from flexhub.platform import auth
from flexhub.store.partners import Partner


@pytest.fixture
def derivations(monkeypatch):
    calls: list[int] = []
    real = auth.derive_key

    def counting(secret: str, salt: bytes) -> bytes:
        calls.append(1)
        return real(secret, salt)

    monkeypatch.setattr(auth, "derive_key", counting)
    return calls


async def _token_requests(base_url: str, client_id: str, secret: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        oauth = await http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        flex = await http.post("/authtoken/v1/", json={"client_id": client_id, "api_key": secret})
    return [oauth.status_code, flex.status_code]


async def test_every_credential_check_derives_one_key(platform, make_partner, test_db, derivations):
    partner = await make_partner()
    disabled = await make_partner()
    async with test_db.session() as session:
        await session.execute(
            update(Partner).where(Partner.id == disabled.id).values(disabled=True)
        )
        await session.commit()
    cases = {
        "unknown id": ("f" * 32, "whatever", [401, 401]),
        "known id, wrong secret": (partner.client_id, "wrong", [401, 401]),
        "known id, right secret": (partner.client_id, partner.client_secret, [200, 200]),
        "disabled partner": (disabled.client_id, disabled.client_secret, [401, 401]),
    }
    for name, (client_id, secret, statuses) in cases.items():
        derivations.clear()
        assert await _token_requests(platform.base_url, client_id, secret) == statuses, name
        assert len(derivations) == 2, (name, len(derivations))  # one per request


def test_the_dummy_hash_costs_what_a_real_one_does(derivations):
    assert auth.check_secret("x", auth._DUMMY_HASH) is False
    stored = auth.hash_secret("right")
    derivations.clear()
    auth.check_secret("wrong", stored)
    auth.check_secret("wrong", auth._DUMMY_HASH)
    assert len(derivations) == 2

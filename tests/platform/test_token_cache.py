"""``VerifiedTokens``: a verified access token is not verified again until it expires; an
expired one is refused even when cached, a changed key store empties the cache, and what is
refused is never cached. (That a cached token of a disabled or revoked partner is refused is
tests/security/test_tokens.py: the partner is checked on every call.)"""

from __future__ import annotations

import time
import uuid

import pytest

from flexhub.platform import auth
from flexhub.platform.auth import AuthError, VerifiedTokens
from flexhub.platform.keys import KeyStore

ISSUER = "http://platform.test"


def _token(keys: KeyStore, ttl: int = 3600) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(uuid.uuid4()),
        "aud": auth.AUDIENCE,
        "ver": 0,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }
    return keys.sign(claims, typ=auth.TOKEN_TYPE)


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = auth.verify_token

    def verify(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(auth, "verify_token", verify)
    return calls


def test_a_verified_token_is_verified_once(tmp_path, counted):
    keys = KeyStore(tmp_path / "keys").load()
    cache = VerifiedTokens(keys, ISSUER)
    token = _token(keys)
    first = cache.verify(token)
    assert cache.verify(token) == first
    assert counted == [token]
    other = _token(keys)
    assert cache.verify(other).partner_id != first.partner_id
    assert len(counted) == 2


def test_an_expired_token_is_refused_though_cached(tmp_path, counted, monkeypatch):
    keys = KeyStore(tmp_path / "keys").load()
    cache = VerifiedTokens(keys, ISSUER)
    token = _token(keys, ttl=60)
    cache.verify(token)
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr("jwt.api_jwt.datetime", _FrozenDatetime(later))
    with pytest.raises(AuthError, match="expired"):
        cache.verify(token)
    assert len(counted) == 2  # verified again, not answered from the cache


def test_a_key_rotation_empties_the_cache_and_refusals_are_not_kept(tmp_path, counted):
    keys = KeyStore(tmp_path / "keys").load()
    cache = VerifiedTokens(keys, ISSUER)
    token = _token(keys)
    cache.verify(token)
    keys.rotate()  # the old key stays accepted for its grace: the token verifies again
    cache.verify(token)
    assert len(counted) == 2
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(AuthError):
            cache.verify(forged)
    assert len(counted) == 4


class _FrozenDatetime:
    """Stands in for ``datetime`` inside PyJWT so that its own ``exp`` check sees ``now``."""

    def __init__(self, now: float) -> None:
        from datetime import datetime

        self._real = datetime
        self._now = now

    def now(self, tz=None):
        return self._real.fromtimestamp(self._now, tz)

    def __getattr__(self, name):
        return getattr(self._real, name)

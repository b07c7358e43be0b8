"""The platform's key store: real key files, rotation by another process, the grace period."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from flexhub import signing
from flexhub.platform.keys import KeyStore


def claims() -> dict:
    now = int(time.time())
    return {"sub": "x", "iat": now, "exp": now + 60}


def test_first_load_creates_one_private_key_file(tmp_path):
    store = KeyStore(tmp_path / "keys").load()
    key = store.current
    pem = tmp_path / "keys" / f"{key.kid}.pem"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert key.algorithm == "EdDSA" and key.retired_at is None
    again = KeyStore(tmp_path / "keys").load()
    assert again.current.kid == key.kid and [k.kid for k in again.published()] == [key.kid]


def test_concurrent_first_loads_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        kids = list(pool.map(lambda _: KeyStore(tmp_path / "k").load().current.kid, range(8)))
    assert len(set(kids)) == 1
    assert len(json.loads((tmp_path / "k" / "keys.json").read_text())["keys"]) == 1


def test_rotation_publishes_both_keys_and_signs_with_the_new_one(tmp_path):
    store = KeyStore(tmp_path).load()
    old = store.current
    before = store.sign(claims())
    new = store.rotate()
    assert store.current.kid == new.kid != old.kid
    assert [k.kid for k in store.published()] == [new.kid, old.kid]  # newest first
    assert {k["kid"] for k in store.jwks()["keys"]} == {new.kid, old.kid}
    assert set(store.verification_keys()) == {new.kid, old.kid}
    after = store.sign(claims())
    assert jwt.get_unverified_header(after)["kid"] == new.kid
    for token in (before, after):
        assert signing.jws_verify(token, store.verification_keys())["sub"] == "x"


def test_retired_key_goes_after_the_grace_period(tmp_path):
    grace = timedelta(milliseconds=300)
    store = KeyStore(tmp_path, grace=grace).load()
    old = store.current
    token = store.sign(claims())
    new = store.rotate()
    retired = next(k for k in store.published() if k.kid == old.kid).retired_at
    assert [k.kid for k in store.published(now=retired + grace / 2)] == [new.kid, old.kid]
    assert [k.kid for k in store.published(now=retired + grace)] == [new.kid]
    assert signing.jws_verify(token, store.verification_keys())["sub"] == "x"
    time.sleep(grace.total_seconds() + 0.05)
    assert [k["kid"] for k in store.jwks()["keys"]] == [new.kid]
    with pytest.raises(signing.SignatureError, match="unknown key id"):
        signing.jws_verify(token, store.verification_keys())
    # the current key never expires, however old
    assert store.published(now=datetime.now(UTC) + timedelta(days=3650))[0].kid == new.kid


def test_refresh_picks_up_a_rotation_by_another_store(tmp_path):
    running = KeyStore(tmp_path).load()
    other = KeyStore(tmp_path).load()
    first = running.current.kid
    second = other.rotate().kid
    assert running.current.kid == first  # not re-read until refreshed
    running.refresh()
    assert running.current.kid == second
    third = other.rotate().kid  # two rotations in quick succession are both seen
    running.refresh()
    assert running.current.kid == third
    assert [k.kid for k in running.published()] == [third, second, first]
    running.refresh()  # nothing changed: still the same
    assert running.current.kid == third


def test_cli_rotation_in_another_process_is_seen(tmp_path):
    running = KeyStore(tmp_path / "keys").load()
    first = running.current.kid
    env = dict(os.environ, FLEXHUB_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "flexhub.cli", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    running.refresh()
    assert running.current.kid != first and running.current.kid in done.stdout
    assert {k.kid for k in running.published()} == {first, running.current.kid}

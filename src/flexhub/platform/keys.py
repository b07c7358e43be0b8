"""The platform's signing keys in the data directory: generated on first start, rotated on demand.

``keys.json`` names the current key and every earlier one with the time it was retired; an
earlier key stays published (JWKS) and accepted for ``grace_seconds`` after its retirement so
that tokens and webhook deliveries signed just before a rotation still verify.

The platform keeps two stores: webhook keys (``<data dir>/keys``, published for receivers) and
access-token keys (``<data dir>/token-keys``, never published); one never signs the other's
documents. The directory is private to the platform's user (0700) and every file in it 0600.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flexhub import signing

DEFAULT_GRACE = timedelta(days=2)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: signing.PrivateKey
    created_at: datetime
    retired_at: datetime | None

    @property
    def algorithm(self) -> str:
        return signing.algorithm_for(self.private)

    @property
    def public_pem(self) -> str:
        return signing.public_key_pem(self.private)


class KeyStore:
    def __init__(self, directory: Path, grace: timedelta = DEFAULT_GRACE) -> None:
        self.directory = Path(directory)
        self.grace = grace
        self._keys: list[SigningKey] = []
        self._stamp: tuple[int, int, int] | None = None

    @property
    def _index(self) -> Path:
        return self.directory / "keys.json"

    def load(self) -> KeyStore:
        """Read the keys, creating the first one when the directory has none."""
        private_dir(self.directory)
        if not self._index.exists():
            self._create_first()
        self._read()
        return self

    def _create_first(self) -> None:
        lock = self.directory / ".keys.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return  # another process is creating it; _read waits for the index
        try:
            if not self._index.exists():
                self._add_key(retire_current=False)
        finally:
            os.close(fd)
            lock.unlink(missing_ok=True)

    def _read(self) -> None:
        for _ in range(100):
            try:
                # the time stamp first: a rotation landing after it is seen by the next refresh
                stamp = _stamp(self._index)
                index = json.loads(self._index.read_text())
                break
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.05)
        else:
            raise RuntimeError(f"no key index at {self._index}")
        keys = []
        for entry in index["keys"]:
            pem = (self.directory / f"{entry['kid']}.pem").read_bytes()
            retired = entry.get("retired_at")
            keys.append(
                SigningKey(
                    kid=entry["kid"],
                    private=signing.load_private_key(pem),
                    created_at=datetime.fromisoformat(entry["created_at"]),
                    retired_at=datetime.fromisoformat(retired) if retired else None,
                )
            )
        self._keys = keys
        self._stamp = stamp

    @property
    def stamp(self) -> tuple[int, int, int] | None:
        """Changes whenever the keys read change (a rotation here or by another process)."""
        return self._stamp

    def refresh(self) -> None:
        """Pick up a rotation made by another process (``flexhub keys rotate``)."""
        try:
            stamp = _stamp(self._index)
        except FileNotFoundError:
            return
        if stamp != self._stamp:
            self._read()

    def _add_key(self, retire_current: bool) -> SigningKey:
        now = datetime.now(UTC)
        kid = now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)
        key = signing.generate_private_key()
        path = self.directory / f"{kid}.pem"
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(signing.private_key_pem(key))
        entries = []
        if self._index.exists():
            entries = json.loads(self._index.read_text())["keys"]
        if retire_current:
            for e in entries:
                if e.get("retired_at") is None:
                    e["retired_at"] = now.isoformat()
        entries.append({"kid": kid, "created_at": now.isoformat(), "retired_at": None})
        tmp = self._index.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps({"keys": entries}, indent=2))
        os.replace(tmp, self._index)
        return SigningKey(kid, key, now, None)

    def rotate(self) -> SigningKey:
        key = self._add_key(retire_current=True)
        self._read()
        return key

    @property
    def current(self) -> SigningKey:
        active = [k for k in self._keys if k.retired_at is None]
        return active[-1]

    def published(self, now: datetime | None = None) -> list[SigningKey]:
        """The current key and retired ones still within their grace period, newest first."""
        now = now or datetime.now(UTC)
        keep = [k for k in self._keys if k.retired_at is None or now - k.retired_at < self.grace]
        return sorted(keep, key=lambda k: k.created_at, reverse=True)

    def verification_keys(self) -> dict[str, signing.PublicKey]:
        return {k.kid: k.private.public_key() for k in self.published()}

    def jwks(self) -> dict:
        return {"keys": [signing.public_jwk(k.private, k.kid) for k in self.published()]}

    def sign(self, claims: dict, typ: str = "JWT") -> str:
        key = self.current
        return signing.jws_sign(claims, key.private, key.kid, typ=typ)


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents readable by the owner only (0700)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)


def _stamp(path: Path) -> tuple[int, int, int]:
    """Changes with every rewrite of the index: each one is a new file renamed into place."""
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)

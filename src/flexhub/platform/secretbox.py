"""Secrets at rest: Energy Coordination webhook secrets are stored encrypted (Fernet: AES-128-CBC
with HMAC-SHA256) and decrypted only to sign a delivery.

Keys come from ``FLEXHUB_SECRET_KEYS`` (Fernet keys separated by commas, newest first) or else
from ``<data dir>/secrets.keys`` (one a line, newest first; created 0600 on first start). Every
listed key decrypts, the first encrypts. Rotating (``flexhub keys rotate --for secrets``) puts a
new key first, re-encrypts every stored secret with it and then drops the older keys from the
file; with keys from the environment, put the new key first there and run the same command to
re-encrypt.

A stored value is ``fernet:<token>``; a value without that prefix is a secret written before
encryption was introduced, read as it is and encrypted at the next start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.config import Settings
from flexhub.platform.keys import private_dir
from flexhub.store.coordination import EcWebhook

log = logging.getLogger("flexhub.secrets")
PREFIX = "fernet:"
KEY_FILE = "secrets.keys"


class SecretKeyError(Exception):
    """No usable key, or a stored secret no key decrypts."""


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _read_keys(path: Path) -> list[bytes]:
    return [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class SecretBox:
    def __init__(self, keys: list[bytes], key_file: Path | None = None) -> None:
        if not keys:
            raise SecretKeyError("no secret keys")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise SecretKeyError(f"a secret key is not a Fernet key: {exc}") from exc
        self.keys = keys
        self.key_file = key_file
        self._stamp = _stamp(key_file)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secret_keys.strip():
            keys = [k.strip().encode() for k in settings.secret_keys.split(",") if k.strip()]
            return cls(keys)
        private_dir(settings.data_dir)
        path = settings.data_dir / KEY_FILE
        if not path.exists():
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                pass  # another process made it first
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(Fernet.generate_key().decode() + "\n")
        return cls(_read_keys(path), path)

    def refresh(self) -> None:
        """Pick up a rotation made by another process (the key file changed)."""
        if self.key_file is None or _stamp(self.key_file) == self._stamp:
            return
        fresh = SecretBox(_read_keys(self.key_file), self.key_file)
        self.keys, self._fernet, self._stamp = fresh.keys, fresh._fernet, fresh._stamp

    def encrypt(self, plain: str) -> str:
        self.refresh()
        return PREFIX + self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption; sealed at the next start
        self.refresh()
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretKeyError("no secret key decrypts a stored secret") from exc

    def with_new_key(self) -> SecretBox:
        """A box whose first key is new, the current ones still listed (file keys only)."""
        if self.key_file is None:
            raise SecretKeyError("the keys come from FLEXHUB_SECRET_KEYS: add a new one there")
        keys = [Fernet.generate_key(), *self.keys]
        _write_private(self.key_file, "".join(k.decode() + "\n" for k in keys))
        return SecretBox(keys, self.key_file)

    def drop_old_keys(self) -> None:
        """Keep only the first key (call once every secret is encrypted with it)."""
        if self.key_file is not None:
            _write_private(self.key_file, self.keys[0].decode() + "\n")
            self.keys = self.keys[:1]
            self._fernet = MultiFernet([Fernet(self.keys[0])])
            self._stamp = _stamp(self.key_file)


async def seal(session: AsyncSession, box: SecretBox, *, everything: bool) -> int:
    """Encrypt stored webhook secrets with the box's first key: the plain ones (written before
    encryption), or ``everything`` (after a rotation). Returns how many were rewritten; the
    caller commits."""
    hooks = await session.scalars(select(EcWebhook).where(EcWebhook.secret.is_not(None)))
    count = 0
    for hook in hooks:
        if hook.secret and (everything or not hook.secret.startswith(PREFIX)):
            hook.secret = box.encrypt(box.decrypt(hook.secret))
            count += 1
    return count


async def rotate(session: AsyncSession, box: SecretBox) -> tuple[SecretBox, int]:
    """A new first key (file keys), every secret re-encrypted with it, the old keys dropped."""
    new = box.with_new_key() if box.key_file is not None else box
    count = await seal(session, new, everything=True)
    await session.commit()
    new.drop_old_keys()
    return new, count

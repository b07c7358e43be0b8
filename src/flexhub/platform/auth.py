"""Partners, client credentials, access tokens and roles.

Secrets are stored as salted scrypt hashes; checking one costs exactly one key derivation,
whether the client id exists or not (an unknown id is checked against a dummy hash), so the
answer's timing does not tell which ids exist. Access tokens are JWTs (``typ`` ``at+jwt``)
signed with the platform's token key, which signs nothing else (webhooks have their own), and
verified against the token keys: signature (the algorithm comes from the key), ``typ``,
``iss``, ``aud``, ``exp`` and ``nbf``. A token names its partner and the partner's token
version; who the partner is, its role and whether it may call at all are read from the
database (``partners.py``), never from the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub import signing
from flexhub.platform.keys import KeyStore
from flexhub.store.partners import Partner

ROLES = ("provider", "system_operator", "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
TOKEN_TYPE = "at+jwt"
AUDIENCE = "flexhub"
# Compared with the secrets sent for unknown client ids: a random salt and digest in the stored
# format, so checking against it costs the one key derivation a real check costs.
_DUMMY_HASH = (
    "scrypt$"
    + base64.b64encode(secrets.token_bytes(16)).decode()
    + "$"
    + base64.b64encode(secrets.token_bytes(32)).decode()
)


class AuthError(Exception):
    """Missing, invalid or expired credentials."""


class PartnerExists(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is calling: the partner (tenant) and its role."""

    tenant_id: str
    role: str
    name: str


@dataclass(frozen=True)
class TokenClaims:
    """What a verified access token says: the partner and the token version it was issued at."""

    partner_id: str
    version: int
    expires: float = 0.0  # the token's exp (Unix time)


@dataclass(frozen=True)
class NewCredentials:
    partner_id: str
    client_id: str
    client_secret: str


def derive_key(secret: str, salt: bytes) -> bytes:
    """The one key derivation behind every stored secret (tests count its calls)."""
    return hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = derive_key(secret, salt)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = derive_key(secret, base64.b64decode(salt_b64))
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


async def add_partner(session: AsyncSession, name: str, role: str = "provider") -> NewCredentials:
    """Create a partner; the secret is returned once and stored only as a hash."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    existing = await session.scalar(select(Partner).where(Partner.name == name))
    if existing is not None:
        raise PartnerExists(name)
    secret = secrets.token_urlsafe(32)
    partner = Partner(
        id=str(uuid.uuid4()),
        name=name,
        role=role,
        client_id=secrets.token_hex(16),
        secret_hash=hash_secret(secret),
    )
    session.add(partner)
    await session.flush()
    return NewCredentials(partner.id, partner.client_id, secret)


async def authenticate_client(session: AsyncSession, client_id: str, secret: str) -> Partner:
    """The partner whose credentials these are. Known and unknown ids, right and wrong
    secrets, enabled and disabled partners: one query and one key derivation each."""
    partner = await session.scalar(select(Partner).where(Partner.client_id == client_id))
    stored = partner.secret_hash if partner is not None else _DUMMY_HASH
    matches = check_secret(secret, stored)
    if not matches or partner is None or partner.disabled:
        raise AuthError("invalid client credentials")
    return partner


def issue_token(keys: KeyStore, partner: Partner, issuer: str, ttl_seconds: int) -> str:
    """An access token for ``partner``, signed with the current token key. Its role and name
    are informative: the platform reads both from the database on every call."""
    now = datetime.now(UTC)
    claims = {
        "iss": issuer,
        "sub": partner.id,
        "aud": AUDIENCE,
        "role": partner.role,
        "name": partner.name,
        "client_id": partner.client_id,
        "ver": partner.token_version or 0,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    return keys.sign(claims, typ=TOKEN_TYPE)


def verify_token(keys: KeyStore, token: str, issuer: str) -> TokenClaims:
    """The claims of a valid access token of this platform; AuthError otherwise."""
    keys.refresh()
    try:
        claims = signing.jws_verify(
            token,
            keys.verification_keys(),
            issuer=issuer,
            audience=AUDIENCE,
            required=("exp", "iat", "nbf", "sub", "iss", "aud", "ver"),
        )
        typ = jwt.get_unverified_header(token).get("typ")
    except (signing.SignatureError, jwt.PyJWTError) as exc:
        raise AuthError(str(exc)) from exc
    if typ != TOKEN_TYPE:
        raise AuthError(f"not an access token (typ {typ!r})")
    sub, version = claims.get("sub"), claims.get("ver")
    if not isinstance(sub, str) or not sub or not isinstance(version, int):
        raise AuthError("token lacks a valid subject or version")
    return TokenClaims(partner_id=sub, version=version, expires=float(claims["exp"]))


class VerifiedTokens:
    """Access tokens this process has verified, by the SHA-256 of the token, until they
    expire: a partner calls with the same token for up to an hour, and checking its signature
    and claims each time was a third of an authenticated read's own work.

    Only the signature and claims are cached. Whether the partner exists, is enabled and still
    at the token's version is read from :class:`~flexhub.platform.partners.PartnerCache` on
    every call, so disabling a partner, rotating its secret or revoking its tokens refuses a
    cached token exactly as it refuses a fresh one. A change of the token keys (a rotation by
    another process, seen by ``KeyStore.refresh``) empties the cache. At most ``size``
    tokens are kept (the cache is emptied when full: a flood of distinct valid tokens costs
    verifications, never memory)."""

    def __init__(self, keys: KeyStore, issuer: str, size: int = 10_000) -> None:
        self.keys = keys
        self.issuer = issuer
        self.size = size
        self._entries: dict[bytes, TokenClaims] = {}
        self._stamp: object = None

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid access token; AuthError otherwise (never cached)."""
        self.keys.refresh()
        if self.keys.stamp != self._stamp:
            self._entries.clear()
            self._stamp = self.keys.stamp
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._entries.get(digest)
        if claims is not None:
            if time.time() < claims.expires:
                return claims
            del self._entries[digest]
        claims = verify_token(self.keys, token, self.issuer)
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[digest] = claims
        return claims

    def clear(self) -> None:
        self._entries.clear()

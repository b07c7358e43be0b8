"""Partners, client credentials, access tokens and roles.

Secrets are stored as salted scrypt hashes. Access tokens are JWTs signed with the platform's
current key (EdDSA) and verified against the published keys; the algorithm comes from the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub import signing
from flexhub.platform.keys import KeyStore
from flexhub.store.partners import Partner

ROLES = ("provider", "system_operator", "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


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
class NewCredentials:
    partner_id: str
    client_id: str
    client_secret: str


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
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
    partner = await session.scalar(select(Partner).where(Partner.client_id == client_id))
    # Hash even for unknown clients so that timing does not reveal which ids exist.
    stored = partner.secret_hash if partner else hash_secret("unknown-client")
    if not check_secret(secret, stored) or partner is None or partner.disabled:
        raise AuthError("invalid client credentials")
    return partner


def issue_token(keys: KeyStore, partner: Partner, issuer: str, ttl_seconds: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": issuer,
        "sub": partner.id,
        "aud": "flexhub",
        "role": partner.role,
        "name": partner.name,
        "client_id": partner.client_id,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    return keys.sign(claims, typ="at+jwt")


def verify_token(keys: KeyStore, token: str) -> Principal:
    keys.refresh()
    try:
        claims = signing.jws_verify(
            token, keys.verification_keys(), audience="flexhub", required=("exp", "iat", "sub")
        )
    except signing.SignatureError as exc:
        raise AuthError(str(exc)) from exc
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims.get("sub"), str):
        raise AuthError("token lacks a valid subject or role")
    return Principal(tenant_id=claims["sub"], role=role, name=str(claims.get("name", "")))

"""Pure signing and verification, shared by the platform and the agent.

- HMAC payload signatures of Energy Coordination webhooks:
  ``X-Payload-Signature = Base64(HMAC-SHA256(UTF-8 secret, raw body))``.
- Compact JWS (JWT) signed with the platform's asymmetric keys: access tokens and Flex Market
  webhooks. The verifier picks the algorithm from the key it holds, never from the token header.
- The system operator's Ed25519 signature over canonical JSON of a dispatch instruction.
- Key generation and PEM loading.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PAYLOAD_SIGNATURE_HEADER = "X-Payload-Signature"


class SignatureError(Exception):
    """A signature or token that does not verify; the message says why."""


# --- HMAC payload signature -------------------------------------------------------------------


def payload_signature(secret: str, body: bytes) -> str:
    """Base64 (standard, padded) HMAC-SHA256 of the raw body, keyed by the UTF-8 secret."""
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def verify_payload_signature(secret: str, body: bytes, header: str | None) -> None:
    """Raise SignatureError unless ``header`` is the signature of ``body`` under ``secret``."""
    if not header or not header.strip():
        raise SignatureError(f"missing {PAYLOAD_SIGNATURE_HEADER} header")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is not valid base64") from exc
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise SignatureError("signature does not match the body")


# --- keys -------------------------------------------------------------------------------------

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def generate_private_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey | PublicKey) -> str:
    public = key.public_key() if hasattr(key, "private_bytes") else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(pem: bytes | str) -> PrivateKey:
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise SignatureError("unsupported private key type")
    return key


def load_public_key(pem: bytes | str) -> PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise SignatureError("not a PEM public key") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise SignatureError("unsupported public key type")
    return key


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """The one JWS algorithm a key may be used with."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise SignatureError("only P-256 EC keys are supported")
        return "ES256"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    raise SignatureError("unsupported key type")


def public_jwk(key: PrivateKey | PublicKey, kid: str) -> dict[str, Any]:
    public = key.public_key() if hasattr(key, "private_bytes") else key
    alg = algorithm_for(public)
    algo = jwt.algorithms.get_default_algorithms()[alg]
    jwk = json.loads(algo.to_jwk(public))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


# --- JWS --------------------------------------------------------------------------------------


def jws_sign(claims: Mapping[str, Any], key: PrivateKey, kid: str, typ: str = "JWT") -> str:
    """A compact JWS of ``claims``, with ``kid`` in the header and the key's own algorithm."""
    return jwt.encode(
        dict(claims), key, algorithm=algorithm_for(key), headers={"kid": kid, "typ": typ}
    )


def jws_verify(
    token: str | bytes,
    keys: Mapping[str, PublicKey],
    *,
    issuer: str | None = None,
    audience: str | None = None,
    required: tuple[str, ...] = ("exp", "iat"),
    leeway: float = 0,
) -> dict[str, Any]:
    """Verify a compact JWS against the key named by its ``kid``; return the claims.

    The algorithm comes from the key, so ``alg: none`` and HMAC tokens made with a public key
    as the secret are refused. Expired tokens, unknown kids and changed payloads are refused.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise SignatureError(f"malformed token: {exc}") from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise SignatureError("unknown key id")
    key = keys[kid]
    alg = algorithm_for(key)
    if header.get("alg") != alg:
        raise SignatureError(f"algorithm {header.get('alg')!r} is not allowed for this key")
    options = {"require": list(required), "verify_aud": audience is not None}
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=issuer,
            audience=audience,
            options=options,
            leeway=leeway,
        )
    except jwt.ExpiredSignatureError as exc:
        raise SignatureError("token has expired") from exc
    except jwt.PyJWTError as exc:
        raise SignatureError(f"token does not verify: {exc}") from exc


# --- the system operator's signature (Flex Market) ----------------------------------------------

SO_SIGNED_FIELDS = (
    "so_reference",
    "obligation_id",
    "start",
    "end",
    "capacity",
    "need_direction",
    "instruction_type",
)
SO_SIGNATURE_ALGORITHM = "Ed25519"


def canonical_json(obj: Any) -> bytes:
    """Keys sorted, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64url_decode(text: str) -> bytes:
    """Strict: only the URL-safe alphabet, no padding, and the one canonical spelling (Python's
    decoder would skip stray characters and ignore the spare bits of the last one)."""
    if not isinstance(text, str) or "=" in text:
        raise SignatureError("signature must be base64url without padding")
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise SignatureError("signature is not valid base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url(raw) != text:
        raise SignatureError("signature is not canonical base64url")
    return raw


def so_signed_document(instruction: Mapping[str, Any]) -> bytes:
    missing = [f for f in SO_SIGNED_FIELDS if f not in instruction]
    if missing:
        raise SignatureError(f"instruction lacks signed fields: {', '.join(missing)}")
    return canonical_json({f: instruction[f] for f in SO_SIGNED_FIELDS})


def so_sign(instruction: Mapping[str, Any], key: ed25519.Ed25519PrivateKey) -> str:
    return _b64url(key.sign(so_signed_document(instruction)))


def so_verify(
    instruction: Mapping[str, Any],
    signature: str | None,
    algorithm: str | None,
    public_keys: list[ed25519.Ed25519PublicKey],
) -> None:
    """Raise SignatureError unless one of the SO's keys verifies the instruction's signature."""
    if not signature:
        raise SignatureError("instruction carries no SO signature")
    if algorithm != SO_SIGNATURE_ALGORITHM:
        raise SignatureError(f"unsupported SO signature algorithm {algorithm!r}")
    raw = _b64url_decode(signature)
    document = so_signed_document(instruction)
    for key in public_keys:
        try:
            key.verify(raw, document)
            return
        except InvalidSignature:
            continue
    raise SignatureError("SO signature does not verify")

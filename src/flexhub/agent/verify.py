"""Verification of what arrives, on top of ``flexhub.signing``: the Flex Market platform's
webhook keys (fetched from ``/webhook/v1/jwks/`` or ``/webhook/v1/public-key/``, cached, and
fetched again once when a token names a ``kid`` the cache lacks), and the system operators'
signatures on instructions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import jwt

from flexhub.signing import (
    PublicKey,
    SignatureError,
    jws_verify,
    load_public_key,
    so_verify,
)
from flexhub.wire.flexmarket.dispatches import InstructionOut
from flexhub.wire.flexmarket.webhooks import WebhookClaims

log = logging.getLogger(__name__)

# Fetches the platform's current keys: kid -> key.
KeyFetcher = Callable[[], Awaitable[dict[str, PublicKey]]]
REFETCH_SECONDS = 30.0  # an unknown kid fetches again at most this often


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, PublicKey]:
    out: dict[str, PublicKey] = {}
    for jwk in jwks.get("keys", []):
        try:
            key = jwt.PyJWK(jwk).key
        except jwt.PyJWTError as exc:
            log.warning("skipping a JWKS key: %s", exc)
            continue
        if jwk.get("kid"):
            out[jwk["kid"]] = key
    return out


def key_from_public_key(body: Mapping[str, Any]) -> dict[str, PublicKey]:
    """``GET /webhook/v1/public-key/``: ``{"kid", "algorithm", "public_key"}``."""
    return {str(body["kid"]): load_public_key(body["public_key"])}


class WebhookKeys:
    """The platform's webhook keys, cached; verifies a delivery's compact JWS."""

    def __init__(self, fetch: KeyFetcher, issuer: str) -> None:
        self._fetch = fetch
        self.issuer = issuer
        self.keys: dict[str, PublicKey] = {}
        self._fetched_at = -REFETCH_SECONDS
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            self.keys = {**self.keys, **await self._fetch()}
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> WebhookClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise SignatureError(f"malformed token: {exc}") from exc
        if (
            isinstance(kid, str)
            and kid not in self.keys
            and time.monotonic() - self._fetched_at >= REFETCH_SECONDS
        ):
            await self.refresh()
        claims = jws_verify(token, self.keys, issuer=self.issuer, required=("exp", "iat", "jti"))
        try:
            return WebhookClaims.model_validate(claims)
        except ValueError as exc:
            raise SignatureError(f"claims are not a Flex Market webhook: {exc}") from exc


class SoSignatures:
    """The system operators' Ed25519 keys and whether an instruction must carry a signature."""

    def __init__(self, pems: Iterable[str], required: bool) -> None:
        self.keys = [load_public_key(p) for p in pems]
        self.required = required

    def check(self, instruction: InstructionOut) -> str | None:
        """``None`` when the instruction may be acted on, else the reason it may not."""
        if instruction.signature is None and not self.required:
            return None
        if instruction.signature is not None and not self.keys:
            return None if not self.required else "no SO public key is configured"
        try:
            so_verify(
                instruction.model_dump(),
                instruction.signature,
                instruction.signature_algorithm,
                self.keys,  # type: ignore[arg-type]
            )
        except SignatureError as exc:
            return str(exc)
        return None

"""What a running platform holds: settings, the database, the signing keys (webhooks and access
tokens, kept apart), the key for secrets at rest, the partner cache and the rate limiter.
Everything but the settings, the database and the webhook keys is derived from the settings
when not given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flexhub.config import Settings
from flexhub.platform.auth import VerifiedTokens
from flexhub.platform.engines.forecast import NeedForecaster
from flexhub.platform.engines.load_model import BuiltinForecaster
from flexhub.platform.keys import KeyStore
from flexhub.platform.partners import PartnerCache
from flexhub.platform.ratelimit import RateLimiter
from flexhub.platform.secretbox import SecretBox
from flexhub.store.database import Database

WEBHOOK_KEYS = "keys"
TOKEN_KEYS = "token-keys"


def token_key_store(settings: Settings) -> KeyStore:
    """Access-token keys: a retired key is honoured as long as a token signed with it lives."""
    grace = timedelta(seconds=settings.token_ttl_seconds + 60)
    return KeyStore(settings.data_dir / TOKEN_KEYS, grace=grace)


def webhook_key_store(settings: Settings) -> KeyStore:
    return KeyStore(settings.data_dir / WEBHOOK_KEYS)


@dataclass
class PlatformContext:
    settings: Settings
    db: Database
    keys: KeyStore  # webhook signing keys (Flex Market JWS deliveries, public key and JWKS)
    token_keys: KeyStore = None  # type: ignore[assignment]
    secrets: SecretBox = None  # type: ignore[assignment]
    partners: PartnerCache = None  # type: ignore[assignment]
    limiter: RateLimiter = field(default=None)  # type: ignore[assignment]
    tokens: VerifiedTokens = None  # type: ignore[assignment]  # verified access tokens
    forecaster: NeedForecaster = field(default_factory=BuiltinForecaster)  # the need forecast

    def __post_init__(self) -> None:
        if self.token_keys is None:
            self.token_keys = token_key_store(self.settings).load()
        if self.secrets is None:
            self.secrets = SecretBox.from_settings(self.settings)
        if self.partners is None:
            self.partners = PartnerCache(self.db, self.settings.partner_cache_seconds)
        if self.limiter is None:
            self.limiter = RateLimiter(self.settings)
        if self.tokens is None:
            self.tokens = VerifiedTokens(self.token_keys, self.settings.base_url)

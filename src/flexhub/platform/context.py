"""What a running platform holds: settings, the database and the signing keys."""

from __future__ import annotations

from dataclasses import dataclass

from flexhub.config import Settings
from flexhub.platform.keys import KeyStore
from flexhub.store.database import Database


@dataclass
class PlatformContext:
    settings: Settings
    db: Database
    keys: KeyStore

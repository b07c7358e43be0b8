"""Settings from the environment (``FLEXHUB_*``) and an optional TOML file.

Defaults need no configuration: an SQLite file in the working directory and a data directory
``./.flexhub`` that holds the platform's signing keys (generated on first start).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for webhook deliveries."""

    max_attempts: int = 4  # the first try plus three retries
    base_seconds: float = 60.0
    factor: float = 5.0
    max_seconds: float = 3600.0
    jitter: float = 0.2  # +/- fraction of the delay

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); rand in [0, 1)."""
        raw = min(self.max_seconds, self.base_seconds * self.factor ** (attempt - 1))
        return max(0.0, raw * (1 + self.jitter * (2 * rand - 1)))


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./flexhub.db"
    data_dir: Path = Path(".flexhub")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # issuer / base URL; defaults to http://host:port
    token_ttl_seconds: int = 3600
    run_worker: bool = True  # run the delivery worker inside `platform serve`
    # after start-up, freeze what start-up built out of the garbage collector's way (heap.py)
    settle_heap: bool = True
    # rows a worker claims at once, batches in flight at once within one worker, and its
    # connections at most: the knee on the 2-core machine (README, "Delivery worker, fifth
    # round"); 64 / 32 gave 2 workers 36 % fewer deliveries a second
    worker_batch: int = 128
    worker_pipelines: int = 2
    worker_concurrency: int = 64
    worker_poll_seconds: float = 5.0
    # how long a claimed row is a worker's (renewed every third of it while held): a killed
    # worker's rows are delivered by another within this
    worker_lease_seconds: float = 15.0
    # rows committed by this process go straight to its worker (leased in the same transaction)
    worker_handoff: bool = True
    delivery_timeout_seconds: float = 10.0
    webhook_allow_private: bool = False  # SSRF guard: refuse private/loopback targets
    # -- hardening (README "Security") --
    max_body_bytes: int = 2_000_000  # request bodies; 413 beyond
    max_batch_body_bytes: int = 20_000_000  # the batch endpoints and reports
    max_batch_items: int = 10_000  # items per call of a batch endpoint; 400 beyond
    max_webhooks_per_partner: int = 20  # per API
    partner_cache_seconds: float = 5.0  # how long a token's partner (status, role) is cached
    rate_limit_storage: str = "memory://"  # redis://host:port/db when several processes serve
    rate_limit_prefix: str = "flexhub"  # key prefix in the rate limit storage
    rate_limit_token_per_client: str = "10/minute"  # token requests per client id ("" = off)
    rate_limit_token_per_address: str = "60/minute"  # token requests per source address
    rate_limit_api_per_partner: str = "1200/minute"  # API calls per partner
    trusted_proxies: str = ""  # addresses/networks whose X-Forwarded-For is believed
    secret_keys: str = ""  # Fernet keys for secrets at rest, newest first; else a key file
    delivery_log_retention_days: float = 30.0
    retention_sweep_seconds: float = 3600.0
    webhook_disable_after_days: float = 3.0  # failing this long (retries exhausted): disabled
    # -- neighbourhoods and eligibility (README "Neighbourhoods and eligibility") --
    sandbox_neighbourhoods: bool = True  # the documented sandbox test areas are always loaded
    eligibility_cycle_seconds: float = 600.0  # one UserEligibility event per partner per cycle
    # -- grid engines (README "Forecast, price curves, power limits and compensation") --
    price_curve_schedule: str = "12:00"  # local run time, "12:00 FI=13:00"; "" = no daily run
    lpc_ack_minutes: float = 30.0  # LPC targets not acknowledged this long after the request
    # PostgreSQL connections per process: a pool of this size and as many again on demand;
    # a request that finds none free within the timeout is a 503 with Retry-After
    db_pool_size: int = 10
    db_pool_timeout_seconds: float = 30.0
    # a pooled connection idle longer than this is pinged before use (and replaced if gone)
    db_ping_idle_seconds: float = 10.0
    ec_retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Flex Market contract: at least 6 attempts over at least an hour. 8 attempts 1, 2, 4, ...
    # 32 and 60 minutes apart span about two hours; even with every delay cut by the jitter
    # (-20 %) they span more than an hour (7 attempts would span 50 minutes at worst).
    fm_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=8, base_seconds=60.0, factor=2.0)
    )

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")


_BOOL_TRUE = {"1", "true", "yes", "on"}


def _coerce(value: str, current: Any) -> Any:
    if isinstance(current, bool):
        return value.strip().lower() in _BOOL_TRUE
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path):
        return Path(value)
    return value


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings: defaults < TOML file (``FLEXHUB_CONFIG``) < ``FLEXHUB_*`` env < overrides."""
    env = dict(os.environ if env is None else env)
    base = Settings()
    values: dict[str, Any] = {}
    config_file = env.get("FLEXHUB_CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            values.update(tomllib.load(fh))
    for f in fields(Settings):
        key = f"FLEXHUB_{f.name.upper()}"
        if key in env and not isinstance(getattr(base, f.name), RetryPolicy):
            values[f.name] = _coerce(env[key], getattr(base, f.name))
    for name in ("ec_retry", "fm_retry"):
        policy: RetryPolicy = getattr(base, name)
        raw = values.get(name) or {}
        prefix = f"FLEXHUB_{name.upper()}_"
        for pf in fields(RetryPolicy):
            if prefix + pf.name.upper() in env:
                raw[pf.name] = _coerce(env[prefix + pf.name.upper()], getattr(policy, pf.name))
        values[name] = replace(policy, **raw) if raw else policy
    values.update(overrides)
    if "data_dir" in values and not isinstance(values["data_dir"], Path):
        values["data_dir"] = Path(values["data_dir"])
    return replace(base, **values)

"""Settings: defaults need nothing; TOML file < FLEXHUB_* environment < explicit overrides;
the retry policy grows exponentially with bounded jitter."""

from __future__ import annotations

from pathlib import Path

from flexhub.config import RetryPolicy, load_settings


def test_defaults_need_no_configuration():
    s = load_settings(env={})
    assert s.database_url == "sqlite+aiosqlite:///./flexhub.db"
    assert s.data_dir == Path(".flexhub")
    assert s.run_worker is True and s.webhook_allow_private is False
    assert s.ec_retry.max_attempts == 4  # first try plus three retries
    assert s.fm_retry.max_attempts >= 6
    assert s.base_url == "http://127.0.0.1:8000"


def test_toml_then_environment_then_overrides(tmp_path):
    toml = tmp_path / "flexhub.toml"
    toml.write_text(
        'database_url = "postgresql+asyncpg://db/x"\nport = 9000\ndata_dir = "/srv/flexhub"\n'
        "[ec_retry]\nmax_attempts = 6\n"
    )
    env = {
        "FLEXHUB_CONFIG": str(toml),
        "FLEXHUB_PORT": "9100",
        "FLEXHUB_RUN_WORKER": "no",
        "FLEXHUB_WEBHOOK_ALLOW_PRIVATE": "true",
        "FLEXHUB_EC_RETRY_BASE_SECONDS": "2.5",
        "FLEXHUB_FM_RETRY_MAX_ATTEMPTS": "9",
    }
    s = load_settings(env=env, host="0.0.0.0")
    assert s.database_url == "postgresql+asyncpg://db/x" and s.is_postgres
    assert s.port == 9100 and s.host == "0.0.0.0"
    assert s.data_dir == Path("/srv/flexhub")
    assert s.run_worker is False and s.webhook_allow_private is True
    assert s.ec_retry.max_attempts == 6 and s.ec_retry.base_seconds == 2.5
    assert s.fm_retry.max_attempts == 9


def test_retry_delays_grow_exponentially_within_jitter():
    policy = RetryPolicy(base_seconds=60, factor=5, max_seconds=3600, jitter=0.2)
    for attempt, nominal in ((1, 60), (2, 300), (3, 1500), (4, 3600), (9, 3600)):
        low, high = policy.delay(attempt, 0.0), policy.delay(attempt, 0.999999)
        assert low == nominal * 0.8
        assert abs(high - nominal * 1.2) < nominal * 1e-5
        assert low <= policy.delay(attempt, 0.5) <= high

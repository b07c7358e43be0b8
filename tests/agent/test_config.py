"""The agent's configuration: the example ``agent init`` writes validates; secrets come from
the file, the environment or a file, and never show in a repr or a dump."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from flexhub.agent.config import AgentConfig, load_config
from flexhub.cli import app


def test_init_writes_an_example_that_loads(tmp_path, monkeypatch):
    target = tmp_path / "agent.toml"
    result = CliRunner().invoke(app, ["agent", "init", str(target)])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["agent", "init", str(target)]).exit_code == 1  # no overwrite
    for name, value in {
        "AGENT_EC_CLIENT_SECRET": "ec-secret-value",
        "AGENT_EC_WEBHOOK_SECRET": "hook-secret-value",
        "AGENT_FM_API_KEY": "fm-key-value",
    }.items():
        monkeypatch.setenv(name, value)
    config = load_config(target)
    assert config.policy == "optimizer"
    assert config.coordination.client_secret.get_secret_value() == "ec-secret-value"
    assert config.flex_market.api_key.get_secret_value() == "fm-key-value"
    assert [s.asset_id for s in config.specs()] == ["battery-1", "tank-1"]
    shown = repr(config) + str(config.model_dump())
    for secret in ("ec-secret-value", "hook-secret-value", "fm-key-value"):
        assert secret not in shown


def test_run_refuses_a_config_naming_an_unset_variable(tmp_path, monkeypatch):
    target = tmp_path / "agent.toml"
    CliRunner().invoke(app, ["agent", "init", str(target)])
    monkeypatch.delenv("AGENT_FM_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["agent", "run", "--config", str(target)])
    assert result.exit_code == 2
    assert "AGENT_FM_API_KEY" in result.output


def base(**coordination):
    return {
        "coordination": {
            "base_url": "https://api.example",
            "token_url": "https://login.example/token",
            "client_id": "c",
            "webhook_secret": "w",
            **coordination,
        }
    }


def test_secret_from_a_file_and_only_once(tmp_path):
    path = tmp_path / "secret"
    path.write_text("from-the-file\n")
    config = AgentConfig.model_validate(base(client_secret_file=str(path)))
    assert config.coordination.client_secret.get_secret_value() == "from-the-file"
    with pytest.raises(ValidationError, match="give client_secret once"):
        AgentConfig.model_validate(base(client_secret="x", client_secret_file=str(path)))


def test_unknown_fields_and_duplicate_assets_are_refused():
    with pytest.raises(ValidationError):
        AgentConfig.model_validate({"polcy": "rules"})
    asset = {"asset_id": "a", "kind": "battery"}
    with pytest.raises(ValidationError, match="unique"):
        AgentConfig.model_validate({"assets": [asset, asset]})

"""The provider's agent for the demo: its configuration (what ``flexhub agent run --config``
reads, built here as the same :class:`AgentConfig`, and written next to the run as
``agent.toml``) from the provider's credentials, the SO's public key and the fleet's inventory;
the agent runs its assets with the simulated driver on the day's accelerated clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flexhub.agent.config import AgentConfig
from flexhub.agent.runtime import Agent
from flexhub.clock import Clock
from flexhub.demo.homes import ZONE, Fleet
from flexhub.demo.hub import Credentials, free_port

EC_PATH = "/energy-coordination/v1"
TICK_SECONDS = 900  # of the day's clock: the simulated devices' physics step (15 min)


def agent_config(
    base_url: str,
    provider: Credentials,
    webhook_secret: str,
    so_public_key_pem: str,
    fleet: Fleet,
    flex_assets: dict[str, str],
    data_dir: Path,
) -> dict[str, Any]:
    port = free_port()
    assets = []
    for home in fleet.homes:
        for entry in home.asset_configs():
            if entry["kind"] == "battery" and home.area in flex_assets:
                entry["flex_asset_id"] = flex_assets[home.area]
            assets.append(entry)
    return {
        "data_dir": str(data_dir),
        "policy": "optimizer",
        "zone": ZONE,
        "reconcile_seconds": 3600.0,
        "receiver": {
            "host": "127.0.0.1",
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
        },
        "coordination": {
            "base_url": base_url + EC_PATH,
            "token_url": base_url + "/connect/token",
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "webhook_secret": webhook_secret,
        },
        "flex_market": {
            "base_url": base_url,
            "client_id": provider.client_id,
            "api_key": provider.client_secret,
            "so_public_keys": [so_public_key_pem],
            "require_so_signature": True,
        },
        "drivers": {"sim": {"tick_seconds": TICK_SECONDS, "zone": ZONE}},
        "assets": assets,
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def to_toml(config: dict[str, Any]) -> str:
    """The configuration as the TOML file ``flexhub agent run --config`` reads (secrets
    included: the file is written 0600 in the run's own directory)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict | list)]
    for name in ("receiver", "coordination", "flex_market"):
        lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in config[name].items()]
    for name, options in config["drivers"].items():
        lines += ["", f"[drivers.{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in options.items()]
    for asset in config["assets"]:
        lines += ["", "[[assets]]"] + [f"{k} = {_toml_value(v)}" for k, v in asset.items()]
    return "\n".join(lines) + "\n"


def write_config(config: dict[str, Any], path: Path) -> AgentConfig:
    path.touch(mode=0o600)
    path.write_text(to_toml(config), encoding="utf-8")
    from flexhub.agent.config import load_config

    return load_config(path)


async def start_agent(config: AgentConfig, clock: Clock) -> Agent:
    return await Agent(config, clock=clock).start()

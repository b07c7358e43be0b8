"""The agent's configuration: one TOML file (``flexhub agent init`` writes a commented example,
``example.toml`` next to this module), validated by pydantic.

Secrets (client secrets, API keys, the Energy Coordination webhook secret) are given in the
file, or by naming an environment variable (``<field>_env``) or a file holding them
(``<field>_file``); they are kept as ``SecretStr`` so that they never appear in a log line or a
``repr``.
"""

from __future__ import annotations

import os
import tomllib
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from flexhub.agent.drivers import AssetSpec


def example_config() -> str:
    """The commented example ``flexhub agent init`` writes."""
    return files("flexhub.agent").joinpath("example.toml").read_text(encoding="utf-8")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _secret_fields(cls: type[BaseModel]) -> list[str]:
    return [
        name
        for name, f in cls.model_fields.items()
        if f.annotation is not None and "SecretStr" in str(f.annotation)
    ]


class _WithSecrets(_Strict):
    """``x_env = "NAME"`` reads secret ``x`` from the environment, ``x_file = "path"`` from a
    file; a value in the file itself wins over neither (only one may be given)."""

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in _secret_fields(cls):
            env, path = data.pop(f"{name}_env", None), data.pop(f"{name}_file", None)
            given = [s for s in (data.get(name), env, path) if s]
            if len(given) > 1:
                raise ValueError(f"give {name} once: in the file, by {name}_env or by {name}_file")
            if env:
                if env not in os.environ:
                    raise ValueError(f"{name}_env names {env}, which is not set")
                data[name] = os.environ[env]
            elif path:
                data[name] = Path(path).expanduser().read_text(encoding="utf-8").strip()
        return data


class CoordinationConfig(_WithSecrets):
    """The Energy Coordination API (flexhub's or Volue Spark's)."""

    base_url: str = Field(description="up to /energy-coordination/v1 (flexhub) or Spark's root")
    token_url: str = Field(description="POST form-encoded client credentials here")
    client_id: str
    client_secret: SecretStr
    webhook_secret: SecretStr = Field(description="the HMAC key of X-Payload-Signature")
    notification_types: list[str] = Field(
        default_factory=lambda: [
            "PriceCurveCreated",
            "LocationLPCRequested",
            "ResourceLPCRequested",
            "LPCReservationCreated",
        ]
    )
    webhook_name: str = "flexhub-agent"


class FlexMarketConfig(_WithSecrets):
    """The Flex Market API (flexhub's or Piclo Flex)."""

    base_url: str
    token_url: str | None = Field(None, description="default: <base_url>/authtoken/v1/")
    client_id: str
    api_key: SecretStr
    issuer: str | None = Field(None, description="the webhooks' iss; default: base_url")
    so_public_keys: list[str] = Field(
        default_factory=list, description="PEM text or paths of PEM files (Ed25519)"
    )
    require_so_signature: bool = True
    events: list[str] = Field(
        default_factory=lambda: [
            "dispatch_instruction.created",
            "dispatch_instruction.stopped",
            "dispatch_instruction.expired",
            "obligation.created",
            "obligation.updated",
        ]
    )

    @property
    def expected_issuer(self) -> str:
        return (self.issuer or self.base_url).rstrip("/")

    def so_key_pems(self) -> list[str]:
        out = []
        for item in self.so_public_keys:
            if "-----BEGIN" in item:
                out.append(item)
            else:
                out.append(Path(item).expanduser().read_text(encoding="utf-8"))
        return out


class ReceiverConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = 8100
    public_url: str | None = Field(None, description="what the platforms POST to; default host")

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class AssetConfig(_Strict):
    """One asset: the driver that runs it, its limits, the ids it has on each API and the
    parameters of its device model (``flexhub.agent.inventory``)."""

    asset_id: str
    driver: str = "sim"
    kind: Literal["ev", "water_heater", "heat_pump", "battery", "load", "solar", "charger"]
    max_import_kw: float = 0.0
    max_export_kw: float = 0.0
    location_id: str | None = None
    meter_point_id: str | None = None
    resource_id: str | None = None
    flex_asset_id: str | None = None
    device: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)

    def spec(self) -> AssetSpec:
        options = dict(self.options)
        options.setdefault("device", dict(self.device))
        if self.meter_point_id:
            options.setdefault("meter_point_id", self.meter_point_id)
        return AssetSpec(
            asset_id=self.asset_id,
            driver=self.driver,
            kind=self.kind,
            max_import_kw=self.max_import_kw,
            max_export_kw=self.max_export_kw,
            location_id=self.location_id,
            resource_id=self.resource_id,
            flex_asset_id=self.flex_asset_id,
            options=options,
        )


class AgentConfig(_Strict):
    data_dir: Path = Path("./agent-data")
    database_url: str | None = Field(
        None, description="the inbox; default sqlite+aiosqlite:///<data_dir>/agent.db"
    )
    policy: Literal["rules", "optimizer"] = "optimizer"
    zone: str = Field("UTC", description="local time zone of the assets' days")
    reconcile_seconds: float = 60.0
    log_level: str = "INFO"
    receiver: ReceiverConfig = Field(default_factory=ReceiverConfig)
    coordination: CoordinationConfig | None = None
    flex_market: FlexMarketConfig | None = None
    assets: list[AssetConfig] = Field(default_factory=list)
    drivers: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_assets(self) -> AgentConfig:
        counts = Counter(a.asset_id for a in self.assets)
        dupes = sorted(i for i, n in counts.items() if n > 1)
        if dupes:
            raise ValueError(f"asset ids must be unique: {', '.join(dupes)}")
        return self

    @property
    def inbox_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'agent.db'}"

    def specs(self) -> list[AssetSpec]:
        return [a.spec() for a in self.assets]


def load_config(path: str | Path) -> AgentConfig:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return AgentConfig.model_validate(raw)

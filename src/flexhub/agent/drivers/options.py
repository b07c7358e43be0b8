"""Reading the drivers' config: a protocol server's listen address and TLS (``[drivers.<name>]``),
secrets given inline or by environment variable, and an asset's options with clear errors.

    [drivers.ocpp]
    host = "0.0.0.0"
    port = 9000
    tls_cert = "/etc/flexhub/csms.pem"   # both, or neither: wss:// instead of ws://
    tls_key = "/etc/flexhub/csms.key"

A secret ``password`` (or ``token``) may instead be named by ``password_env`` (``token_env``):
the environment variable holding it, so that the config file holds no secret.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flexhub.agent.drivers.base import DriverError


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    path: str
    ssl: ssl.SSLContext | None


def listen(options: Mapping[str, Any], driver: str, port: int, path: str) -> Listen:
    """The listen address of a driver's server (``host``, ``port``, ``path``, TLS)."""
    cert, key = options.get("tls_cert"), options.get("tls_key")
    if bool(cert) != bool(key):
        raise ValueError(f"[drivers.{driver}]: tls_cert and tls_key go together")
    context = None
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
    return Listen(
        host=str(options.get("host", "127.0.0.1")),
        port=integer(options, "port", port, f"[drivers.{driver}]"),
        path=str(options.get("path", path)),
        ssl=context,
    )


def secret(options: Mapping[str, Any], name: str, where: str) -> str:
    """``options[name]``, or the environment variable ``options[name + "_env"]`` names."""
    value = options.get(name)
    env = options.get(f"{name}_env")
    if value is None and env:
        value = os.environ.get(str(env))
        if not value:
            raise ValueError(f"{where}: the environment variable {env} ({name}) is not set")
    if not value:
        raise ValueError(f"{where}: {name} (or {name}_env) is required")
    return str(value)


def integer(options: Mapping[str, Any], name: str, default: int, where: str) -> int:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {name} must be a whole number, not {value!r}")
    return value


def number(options: Mapping[str, Any], name: str, default: float | None, where: str):
    value = options.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {name} must be a number, not {value!r}")
    return float(value)


def timings(options: Mapping[str, Any], names: Mapping[str, float | None], driver: str) -> dict:
    """The timing settings given among ``names`` (seconds), with their defaults."""
    return {n: number(options, n, d, f"[drivers.{driver}]") for n, d in names.items()}


def unknown_asset(driver: str, asset_id: str) -> DriverError:
    return DriverError(f"the {driver} driver runs no asset {asset_id!r}")

"""Drivers are plugins: an installed package registers its factory under the ``flexhub.drivers``
entry point group (``sim``, ``ocpp`` and ``s2`` ship with flexhub), and the agent's config names
one per asset."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from flexhub.agent.drivers.base import Driver
from flexhub.clock import Clock

ENTRY_POINT_GROUP = "flexhub.drivers"

DriverFactory = Callable[[Mapping[str, Any], Clock], Driver]


def available_drivers() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def load_driver(name: str) -> DriverFactory:
    """The factory registered as ``name``; a clear ``LookupError`` naming the installed ones."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    installed = ", ".join(available_drivers()) or "none"
    raise LookupError(f"no driver {name!r} is installed (installed: {installed})")

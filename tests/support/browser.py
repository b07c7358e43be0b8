"""Headless Chromium for the dashboard tests: Debian's system browser driven by Playwright
(``.ci/run`` installs the ``chromium`` package when it is missing; elsewhere the tests skip
when there is no browser)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system Chromium, or a skip (a failure under CI, which installs it)."""
    path = os.environ.get("FLEXHUB_CHROMIUM") or shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (.ci/run installs the chromium package)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return path

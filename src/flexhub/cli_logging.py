"""Logging for the ``flexhub`` commands: one format, INFO (DEBUG when verbose)."""

from __future__ import annotations

import logging


def configure(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

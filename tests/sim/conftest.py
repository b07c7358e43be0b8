"""The client tests' platform (``support.client_fixtures``)."""

from support.client_fixtures import client_db, client_platform

__all__ = ["client_db", "client_platform"]

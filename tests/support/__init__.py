"""Helpers for the test suite, imported one way: ``from support.<module> import ...`` (pytest
puts ``tests/`` on the path). Fixtures stay in ``conftest.py``; no test module imports another.

- ``platform``: the platform on a loopback port, partners and their tokens, the API roots;
- ``receiver``: a loopback webhook receiver that records what it gets;
- ``databases``: a fresh SQLite or PostgreSQL database per request, platform settings;
- ``outbox``: filling the outbox, running ``flexhub worker`` processes;
- ``ec_spec``, ``ec_schemas``: the official Energy Coordination document and response checks;
- ``ec_assets``, ``ec_simulation``: Energy Coordination setup through the API;
- ``fm``: Flex Market setup (a system operator, a provider, a competition, an obligation).
"""

"""The wire contract of both APIs, shared by every side: the platform builds its responses and
webhook bodies from these models, and the clients, the agent and the simulator read and write
the same ones. Pydantic only: nothing here imports FastAPI, SQLAlchemy or the platform.

- ``coordination``: the Energy Coordination API v1 (camelCase, as the official document);
- ``flexmarket``: the Flex Market API v1 (snake_case, decimals and times as strings).

Request models refuse unknown fields (``additionalProperties: false``); response and webhook
models ignore fields they do not know, so that a client keeps working when a server adds one.
"""

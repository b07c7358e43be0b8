"""flexhub: a flexibility hub (platform), a provider gateway (agent) and a simulator (sim)."""

__version__ = "0.1.0"

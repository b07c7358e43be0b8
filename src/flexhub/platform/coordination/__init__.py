"""Energy Coordination API v1, wire-compatible with the official OpenAPI document."""

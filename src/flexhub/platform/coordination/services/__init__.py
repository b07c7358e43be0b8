"""Energy Coordination rules: no HTTP here; raise flexhub.platform.errors.ApiError for 4xx."""

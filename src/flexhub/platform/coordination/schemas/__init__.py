"""Energy Coordination wire models (camelCase, exactly as the official document names them)."""

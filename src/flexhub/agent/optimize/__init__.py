"""The agent's decision engine: device models (``devices``) and the schedulers that answer price
curves and power limits for a whole fleet."""

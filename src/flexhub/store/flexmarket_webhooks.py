"""Flex Market webhook tables: subscriptions and published events (to be written)."""

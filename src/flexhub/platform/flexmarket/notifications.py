"""Flex Market delivery channel (to be written)."""

"""Flex Market tables (to be written)."""

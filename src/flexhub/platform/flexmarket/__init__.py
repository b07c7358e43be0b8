"""Flex Market API v1 (Piclo Flex style): competitions, obligations, assets, dispatch, webhooks."""

"""Flex Market rules, one module per area. No HTTP here: services take wire request models
and the caller's tenant, raise ``ApiError`` naming the field, and return wire models built by
``mappers``."""

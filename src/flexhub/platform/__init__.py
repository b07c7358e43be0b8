"""The hub: Energy Coordination API, Flex Market API, engines and webhook delivery."""

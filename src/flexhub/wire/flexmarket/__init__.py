"""Flex Market API v1 wire models (the contract is ``flex-market-v1.md``).

On this wire decimals, times, dates and durations are strings, kept exactly as sent (a system
operator's signature covers the text of its instruction's fields). ``values`` formats and
parses them; ``*In`` models are request bodies, ``*Out`` models what the API answers and what
its webhooks carry.
"""

"""One webhook delivery engine for both APIs: the outbox, the worker, retries and the SSRF guard."""
